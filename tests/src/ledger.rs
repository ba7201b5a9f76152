//! Reading every account through the API and checking the exchange's invariants from those reads
//! alone (DESIGN.md §6, as far as Part 1 makes them visible).
//!
//! In Part 1 only sells rest, so no cash is ever in escrow: the balances alone must add up to the
//! deposits. Sold shares are escrowed: per stock, holdings plus the unfilled part of resting sells
//! must add up to the shares added.

use crate::money::{cents, whole};
use crate::trader::Trader;
use serde_json::Value;
use std::collections::BTreeMap;

/// Everything one user can read about their own account.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountView {
    /// getWalletBalance `data.balance`.
    pub balance: Value,
    /// getStockPortfolio `data`.
    pub portfolio: Value,
    /// getStockTransactions `data`.
    pub stock_transactions: Value,
    /// getWalletTransactions `data`.
    pub wallet_transactions: Value,
}

/// Reads the four account endpoints of `trader`.
pub fn read_account(trader: &Trader) -> AccountView {
    AccountView {
        balance: trader.balance(),
        portfolio: trader.portfolio(),
        stock_transactions: trader.stock_transactions(),
        wallet_transactions: trader.wallet_transactions(),
    }
}

/// What the test put into the exchange from outside.
#[derive(Clone, Debug, Default)]
pub struct Inflows {
    /// Cents deposited per account (same order as the accounts).
    pub deposits_cents: Vec<i128>,
    /// Shares added per stock id.
    pub shares_added: BTreeMap<String, u64>,
}

/// The statuses of an order that still rests in the book.
pub fn is_resting(status: &Value) -> bool {
    status == "IN_PROGRESS" || status == "PARTIALLY_COMPLETE"
}

/// Checks every invariant; returns all violations found.
pub fn check_invariants(accounts: &[AccountView], inflows: &Inflows) -> Vec<String> {
    let mut violations = Vec::new();
    let mut total_cents = 0;
    let mut shares: BTreeMap<String, i128> = BTreeMap::new();
    let mut filled_by_side: BTreeMap<(String, bool), u64> = BTreeMap::new();
    for (index, account) in accounts.iter().enumerate() {
        let balance = cents(&account.balance);
        total_cents += balance;
        if balance < 0 {
            violations.push(format!("account {index}: negative balance {balance}"));
        }
        let deposited = inflows.deposits_cents.get(index).copied().unwrap_or(0);
        let expected_balance = deposited + net_wallet_flow_cents(account);
        if balance != expected_balance {
            violations.push(format!(
                "account {index}: balance {balance} cents != deposits {deposited} + wallet flows = {expected_balance}"
            ));
        }
        for holding in list(&account.portfolio) {
            let quantity = whole(&holding["quantity_owned"]);
            if quantity == 0 {
                violations.push(format!("account {index}: zero holding listed {holding}"));
            }
            *shares.entry(id_text(&holding["stock_id"])).or_default() += i128::from(quantity);
        }
        for order in orders(account) {
            let filled = check_order(index, account, order, &mut violations);
            let stock = id_text(&order["stock_id"]);
            let is_buy = order["is_buy"] == true;
            *filled_by_side.entry((stock.clone(), is_buy)).or_default() += filled;
            if is_resting(&order["order_status"]) && !is_buy {
                let remaining = whole(&order["quantity"]).saturating_sub(filled);
                *shares.entry(stock).or_default() += i128::from(remaining);
            }
        }
        check_wallet_links(index, account, &mut violations);
    }
    let deposits: i128 = inflows.deposits_cents.iter().sum();
    if total_cents != deposits {
        violations.push(format!(
            "cash: balances add to {total_cents} cents, deposits {deposits}"
        ));
    }
    for (stock, added) in &inflows.shares_added {
        let seen = shares.get(stock).copied().unwrap_or(0);
        if seen != i128::from(*added) {
            violations.push(format!(
                "shares of {stock}: holdings + escrow = {seen}, added {added}"
            ));
        }
    }
    for ((stock, is_buy), filled) in &filled_by_side {
        let other = filled_by_side
            .get(&(stock.clone(), !is_buy))
            .copied()
            .unwrap_or(0);
        if *is_buy && *filled != other {
            violations.push(format!("stock {stock}: bought {filled} but sold {other}"));
        }
    }
    violations
}

/// The orders (records without a parent) of an account.
pub fn orders(account: &AccountView) -> impl Iterator<Item = &Value> {
    list(&account.stock_transactions)
        .iter()
        .filter(|record| record["parent_stock_tx_id"].is_null())
}

/// The child (fill) records of `order` in the same account.
pub fn children<'a>(account: &'a AccountView, order: &Value) -> Vec<&'a Value> {
    list(&account.stock_transactions)
        .iter()
        .filter(|record| record["parent_stock_tx_id"] == order["stock_tx_id"])
        .collect()
}

/// Filled quantity of `order`: its children, or all of it when a single match completed it.
pub fn filled_quantity(account: &AccountView, order: &Value) -> u64 {
    let children = children(account, order);
    if children.is_empty() && order["order_status"] == "COMPLETED" {
        return whole(&order["quantity"]);
    }
    children.iter().map(|child| whole(&child["quantity"])).sum()
}

/// Checks one order against its fills; returns its filled quantity.
fn check_order(
    index: usize,
    account: &AccountView,
    order: &Value,
    violations: &mut Vec<String>,
) -> u64 {
    let quantity = whole(&order["quantity"]);
    let children = children(account, order);
    let filled = filled_quantity(account, order);
    let status = order["order_status"].as_str().unwrap_or_default();
    let consistent = match status {
        "IN_PROGRESS" => filled == 0,
        "PARTIALLY_COMPLETE" => 0 < filled && filled < quantity,
        "COMPLETED" => {
            filled == quantity && (children.is_empty() != order["wallet_tx_id"].is_null())
        }
        "CANCELLED" => filled < quantity && order["wallet_tx_id"].is_null(),
        _ => false,
    };
    if !consistent {
        violations.push(format!(
            "account {index}: order {order} has status {status} with {filled} of {quantity} filled by {} children",
            children.len()
        ));
    }
    if order["order_type"] == "MARKET" && status != "COMPLETED" {
        violations.push(format!(
            "account {index}: a course market buy is not COMPLETED: {order}"
        ));
    }
    for child in &children {
        let agrees = child["order_status"] == "COMPLETED"
            && child["is_buy"] == order["is_buy"]
            && child["order_type"] == order["order_type"]
            && child["stock_id"] == order["stock_id"]
            && !child["wallet_tx_id"].is_null();
        if !agrees {
            violations.push(format!(
                "account {index}: child {child} disagrees with order {order}"
            ));
        }
    }
    filled
}

/// Every wallet transaction points at a fill record of the same account that points back at it,
/// with `amount = price × quantity` and `is_debit = is_buy`; every fill record has its wallet tx.
fn check_wallet_links(index: usize, account: &AccountView, violations: &mut Vec<String>) {
    let records = list(&account.stock_transactions);
    let wallet = list(&account.wallet_transactions);
    for wallet_tx in wallet {
        let record = records
            .iter()
            .find(|record| record["stock_tx_id"] == wallet_tx["stock_tx_id"]);
        let Some(record) = record else {
            violations.push(format!(
                "account {index}: wallet tx {wallet_tx} points at no record"
            ));
            continue;
        };
        let notional = cents(&record["stock_price"]) * i128::from(whole(&record["quantity"]));
        let agrees = record["wallet_tx_id"] == wallet_tx["wallet_tx_id"]
            && wallet_tx["is_debit"] == record["is_buy"]
            && cents(&wallet_tx["amount"]) == notional;
        if !agrees {
            violations.push(format!(
                "account {index}: wallet tx {wallet_tx} disagrees with {record}"
            ));
        }
    }
    for record in records
        .iter()
        .filter(|record| !record["wallet_tx_id"].is_null())
    {
        if !wallet
            .iter()
            .any(|tx| tx["wallet_tx_id"] == record["wallet_tx_id"])
        {
            violations.push(format!("account {index}: record {record} has no wallet tx"));
        }
    }
}

/// Credits minus debits of an account's wallet transactions, in cents.
fn net_wallet_flow_cents(account: &AccountView) -> i128 {
    list(&account.wallet_transactions)
        .iter()
        .map(|tx| {
            let amount = cents(&tx["amount"]);
            if tx["is_debit"] == true {
                -amount
            } else {
                amount
            }
        })
        .sum()
}

/// The elements of a JSON list (empty for anything else).
pub fn list(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

/// An id as text whether it came as a string or a number.
pub fn id_text(id: &Value) -> String {
    match id {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
