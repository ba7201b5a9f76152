//! Stock and wallet transaction records and the course's record rules, as pure functions.
//!
//! An order is one record (no parent). A fill that completely fills an order on its first match
//! completes the order record itself, which then carries the fill's wallet transaction. Any other
//! fill makes a child record (`COMPLETED`, its own wallet transaction) and leaves the parent
//! `PARTIALLY_COMPLETE` or, on its last fill, `COMPLETED`, with no wallet transaction.
//! A market order's price is its volume-weighted fill price, rounded half up to the tick.

use serde::{Deserialize, Serialize};

/// The status of a stock transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderStatus {
    /// Accepted, nothing filled yet.
    InProgress,
    /// Resting with some quantity filled.
    PartiallyComplete,
    /// Filled (or a child fill record).
    Completed,
    /// Cancelled or expired before filling completely.
    Cancelled,
}

impl OrderStatus {
    /// The API string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::PartiallyComplete => "PARTIALLY_COMPLETE",
            Self::Completed => "COMPLETED",
            Self::Cancelled => "CANCELLED",
        }
    }

    /// True while the order can still trade or be cancelled.
    pub fn is_live(self) -> bool {
        matches!(self, Self::InProgress | Self::PartiallyComplete)
    }
}

/// `LIMIT` or `MARKET`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordOrderType {
    /// A limit order.
    Limit,
    /// A market order.
    Market,
}

impl RecordOrderType {
    /// The API string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Limit => "LIMIT",
            Self::Market => "MARKET",
        }
    }
}

/// A stock transaction: an order or one fill of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockTx {
    /// Its id (an order's id is its `order_ref`).
    pub stock_tx_id: u64,
    /// The order a fill belongs to.
    pub parent_stock_tx_id: Option<u64>,
    /// The stock.
    pub stock_id: u64,
    /// The owner.
    pub user_id: u64,
    /// The wallet transaction of a single-match fill.
    pub wallet_tx_id: Option<u64>,
    /// Status.
    pub status: OrderStatus,
    /// Side.
    pub is_buy: bool,
    /// Limit or market.
    pub order_type: RecordOrderType,
    /// Limit price, fill price, or (market) the VWAP; `None` before a market order fills.
    pub price_cents: Option<u64>,
    /// The order's (or the fill's) quantity.
    pub quantity: u64,
    /// Lots filled so far (orders only).
    pub filled: u64,
    /// Cash moved by the fills so far (orders only), for the VWAP.
    pub filled_cost_cents: u128,
    /// When it was created (the shard's clock), nanoseconds since the epoch.
    pub time_ns: u64,
}

/// A wallet transaction: one side of one fill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletTx {
    /// Its id.
    pub wallet_tx_id: u64,
    /// The stock transaction it belongs to.
    pub stock_tx_id: u64,
    /// True for the buyer (cash out).
    pub is_debit: bool,
    /// Cents moved, positive.
    pub amount_cents: u64,
    /// When (the shard's clock), nanoseconds since the epoch.
    pub time_ns: u64,
}

/// What one fill does to its order's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FillRecord {
    /// The order itself completes and carries the wallet transaction.
    OnOrder,
    /// A child record is created for the fill.
    Child(StockTx),
}

/// `cost / quantity` rounded half up (the VWAP of fills, in cents).
pub fn vwap_cents(cost_cents: u128, quantity: u64) -> Option<u64> {
    let quantity = u128::from(quantity);
    if quantity == 0 {
        return None;
    }
    u64::try_from((cost_cents * 2 + quantity) / (quantity * 2)).ok()
}

/// Applies a fill of `quantity` at `price_cents` to `order` and says where it is recorded.
/// `child_id` names the child record if one is needed; `wallet_tx_id` is the fill's wallet tx.
pub fn apply_fill(
    order: &mut StockTx,
    price_cents: u64,
    quantity: u64,
    wallet_tx_id: u64,
    child_id: u64,
    time_ns: u64,
) -> FillRecord {
    let single_match = order.filled == 0 && quantity >= order.quantity;
    order.filled = order.filled.saturating_add(quantity);
    order.filled_cost_cents += u128::from(price_cents) * u128::from(quantity);
    order.status = if order.filled >= order.quantity {
        OrderStatus::Completed
    } else {
        OrderStatus::PartiallyComplete
    };
    if order.order_type == RecordOrderType::Market {
        order.price_cents = vwap_cents(order.filled_cost_cents, order.filled);
    }
    if single_match {
        order.wallet_tx_id = Some(wallet_tx_id);
        return FillRecord::OnOrder;
    }
    FillRecord::Child(StockTx {
        stock_tx_id: child_id,
        parent_stock_tx_id: Some(order.stock_tx_id),
        stock_id: order.stock_id,
        user_id: order.user_id,
        wallet_tx_id: Some(wallet_tx_id),
        status: OrderStatus::Completed,
        is_buy: order.is_buy,
        order_type: order.order_type,
        price_cents: Some(price_cents),
        quantity,
        filled: quantity,
        filled_cost_cents: u128::from(price_cents) * u128::from(quantity),
        time_ns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(quantity: u64, order_type: RecordOrderType) -> StockTx {
        StockTx {
            stock_tx_id: 10,
            parent_stock_tx_id: None,
            stock_id: 1,
            user_id: 7,
            wallet_tx_id: None,
            status: OrderStatus::InProgress,
            is_buy: false,
            order_type,
            price_cents: Some(13_500),
            quantity,
            filled: 0,
            filled_cost_cents: 0,
            time_ns: 0,
        }
    }

    #[test]
    fn a_single_full_match_completes_the_order_itself() {
        let mut sell = order(10, RecordOrderType::Limit);
        assert_eq!(
            apply_fill(&mut sell, 13_500, 10, 5, 11, 0),
            FillRecord::OnOrder
        );
        assert_eq!(
            (sell.status, sell.wallet_tx_id),
            (OrderStatus::Completed, Some(5))
        );
    }

    #[test]
    fn partial_fills_make_children_and_the_last_completes() {
        let mut sell = order(10, RecordOrderType::Limit);
        let first = apply_fill(&mut sell, 13_500, 4, 5, 11, 0);
        assert!(
            matches!(first, FillRecord::Child(ref c) if c.parent_stock_tx_id == Some(10) && c.quantity == 4)
        );
        assert_eq!(sell.status, OrderStatus::PartiallyComplete);
        let last = apply_fill(&mut sell, 13_500, 6, 6, 12, 0);
        assert!(matches!(last, FillRecord::Child(ref c) if c.wallet_tx_id == Some(6)));
        assert_eq!(
            (sell.status, sell.wallet_tx_id),
            (OrderStatus::Completed, None)
        );
    }

    #[test]
    fn market_price_is_the_rounded_vwap() {
        let mut buy = order(3, RecordOrderType::Market);
        buy.price_cents = None;
        apply_fill(&mut buy, 100, 1, 1, 11, 0);
        apply_fill(&mut buy, 101, 2, 2, 12, 0);
        assert_eq!(buy.price_cents, Some(101));
        assert_eq!(vwap_cents(301, 2), Some(151));
    }
}
