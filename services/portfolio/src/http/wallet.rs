//! `addMoneyToWallet`, `getWalletBalance`, `getWalletTransactions`.

use axum::extract::State;
use platform::clock::rfc3339_millis;
use platform::envelope::{ApiOk, ApiResult};
use platform::identity::Caller;
use platform::json_body::{JsonBody, required};
use platform::money::{Money, parse_positive_cents};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{PortfolioState, refused};

#[derive(Deserialize)]
pub struct AddMoneyBody {
    amount: Option<Box<RawValue>>,
}

pub async fn add_money(
    State(state): State<PortfolioState>,
    caller: Caller,
    JsonBody(body): JsonBody<AddMoneyBody>,
) -> ApiResult<()> {
    let amount = parse_positive_cents(&required(body.amount, "amount")?, "amount")?;
    state
        .store
        .deposit(caller.user_id, amount)
        .await?
        .map_err(refused)?;
    Ok(ApiOk(()))
}

#[derive(Serialize)]
pub struct BalanceData {
    balance: Money,
}

pub async fn balance(
    State(state): State<PortfolioState>,
    caller: Caller,
) -> ApiResult<BalanceData> {
    Ok(ApiOk(BalanceData {
        balance: Money(state.store.balance(caller.user_id).await?),
    }))
}

#[derive(Serialize)]
pub struct WalletTxView {
    wallet_tx_id: String,
    stock_tx_id: String,
    is_debit: bool,
    amount: Money,
    time_stamp: String,
}

pub async fn transactions(
    State(state): State<PortfolioState>,
    caller: Caller,
) -> ApiResult<Vec<WalletTxView>> {
    let list = state.store.wallet_txs(caller.user_id).await?;
    Ok(ApiOk(
        list.into_iter()
            .map(|tx| WalletTxView {
                wallet_tx_id: tx.wallet_tx_id.to_string(),
                stock_tx_id: tx.stock_tx_id.to_string(),
                is_debit: tx.is_debit,
                amount: Money(tx.amount_cents),
                time_stamp: rfc3339_millis(tx.time_ns),
            })
            .collect(),
    ))
}
