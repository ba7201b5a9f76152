//! The portfolio port: what the HTTP handlers, the order role and settlement need. Business
//! refusals are `Ok(Err(Refusal))` (a 400), outages are `Err` (a 500).

use async_trait::async_trait;
use contracts::{ShardOutcome, Side};

use super::records::{StockTx, WalletTx};

/// A business refusal, with the message for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl Refusal {
    /// A refusal saying `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// A use case's answer.
pub type Decision<T> = anyhow::Result<Result<T, Refusal>>;

/// What [`PortfolioStore::settle_visible`] leaves to wait for: the point of the store's journal
/// the settlement must reach before it is durable (`None`: it already is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "the settlement may not be durable yet: pass this to settled_durable"]
pub struct SettleReceipt(pub Option<u64>);

/// A holding as the portfolio lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    /// The stock.
    pub stock_id: u64,
    /// Its name.
    pub stock_name: String,
    /// Shares owned and not escrowed.
    pub quantity: u64,
}

/// A client's idempotency key for an order: 1 to 64 characters of `[0-9A-Za-z_-]`. Fixed size
/// so that requests carrying it stay `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOrderId {
    len: u8,
    bytes: [u8; ClientOrderId::MAX_LEN],
}

impl ClientOrderId {
    /// The longest accepted key.
    pub const MAX_LEN: usize = 64;

    /// Validates `text`.
    pub fn parse(text: &str) -> Result<Self, Refusal> {
        let valid = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
        if text.is_empty() || text.len() > Self::MAX_LEN || !text.bytes().all(valid) {
            return Err(Refusal::new(
                "client_order_id must be 1 to 64 characters of [0-9A-Za-z_-]",
            ));
        }
        let mut bytes = [0; Self::MAX_LEN];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        let len =
            u8::try_from(text.len()).map_err(|_| Refusal::new("client_order_id is too long"))?;
        Ok(Self { len, bytes })
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        let bytes = self.bytes.get(..usize::from(self.len)).unwrap_or_default();
        std::str::from_utf8(bytes).unwrap_or_default()
    }
}

/// What an order wants escrowed before it is routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscrowRequest {
    /// The owner.
    pub user_id: u64,
    /// The stock.
    pub stock_id: u64,
    /// Buy or sell.
    pub side: Side,
    /// Lots.
    pub quantity: u64,
    /// Limit price; `None` for market.
    pub limit_price_cents: Option<u64>,
    /// The client's idempotency key, if any.
    pub client_order_id: Option<ClientOrderId>,
}

/// A granted escrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escrow {
    /// The id of the order (its stock transaction id).
    pub order_ref: u64,
    /// Cash reserved (a market buy's spend cap).
    pub cash_cents: u64,
    /// The client order id was used before: `order_ref` is that first order and nothing was
    /// reserved now.
    pub duplicate: bool,
}

/// A reservation still waiting for its order's first shard outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingOrder {
    /// The order.
    pub order_ref: u64,
    /// Its owner.
    pub user_id: u64,
    /// Its stock (the shard that owns it decides whether it was ever placed).
    pub stock_id: u64,
}

/// The portfolio store.
#[async_trait]
pub trait PortfolioStore: Send + Sync + 'static {
    /// Creates a stock; a duplicate name is refused. Returns its id.
    async fn create_stock(&self, name: String) -> Decision<u64>;
    /// Adds shares of an existing stock to a user's holdings.
    async fn add_shares(&self, user_id: u64, stock_id: u64, quantity: u64) -> Decision<()>;
    /// Adds cash to a user's wallet.
    async fn deposit(&self, user_id: u64, amount_cents: u64) -> Decision<()>;
    /// Reserves an order's cash or shares and allocates its id.
    async fn reserve(&self, request: EscrowRequest) -> Decision<Escrow>;
    /// Applies outcomes of one shard in sequence order; already applied ones are skipped.
    async fn settle(&self, outcomes: Vec<ShardOutcome>) -> anyhow::Result<()>;
    /// Applies outcomes like [`settle`](Self::settle) but returns once reads see them, maybe
    /// before they are durable; [`settled_durable`](Self::settled_durable) waits for that.
    /// Only for outcomes their shard logged durably: a crash in between loses the settlement
    /// (and every change after it, in the store's order), and recovery settles those outcomes
    /// again from the shard's log. Stores that cannot do better settle durably here.
    async fn settle_visible(&self, outcomes: Vec<ShardOutcome>) -> anyhow::Result<SettleReceipt> {
        self.settle(outcomes).await?;
        Ok(SettleReceipt(None))
    }
    /// Returns once the settlement behind `receipt` is durable.
    async fn settled_durable(&self, receipt: SettleReceipt) -> anyhow::Result<()> {
        anyhow::ensure!(
            receipt.0.is_none(),
            "this store has no journal to wait for: its settlements are durable when applied"
        );
        Ok(())
    }
    /// Releases escrow of orders no shard ever sequenced (after recovery only).
    async fn release_orphans(&self) -> anyhow::Result<usize>;
    /// Reservations still pending (no shard outcome of their order applied) that were made at
    /// or before `older_than`, at most `limit` of them: the candidates for an expire in the
    /// distributed mode, where orphans cannot be released at start-up.
    async fn pending_reservations(
        &self,
        older_than: std::time::SystemTime,
        limit: usize,
    ) -> anyhow::Result<Vec<PendingOrder>>;

    /// The last outcome sequence of `shard` applied.
    async fn applied_through(&self, shard: u32) -> anyhow::Result<u64>;
    /// The available cash of a user, in cents.
    async fn balance(&self, user_id: u64) -> anyhow::Result<u64>;
    /// Holdings with a positive quantity, by stock name descending.
    async fn holdings(&self, user_id: u64) -> anyhow::Result<Vec<Holding>>;
    /// Every stock: id and name.
    async fn stocks(&self) -> anyhow::Result<Vec<(u64, String)>>;
    /// True when the stock exists.
    async fn stock_exists(&self, stock_id: u64) -> anyhow::Result<bool>;
    /// True while the order still holds escrow (in flight or resting).
    async fn has_reservation(&self, order_ref: u64) -> anyhow::Result<bool>;
    /// A stock transaction by id.
    async fn stock_tx(&self, stock_tx_id: u64) -> anyhow::Result<Option<StockTx>>;
    /// A user's stock transactions, oldest first.
    async fn stock_txs(&self, user_id: u64) -> anyhow::Result<Vec<StockTx>>;
    /// A user's wallet transactions, oldest first.
    async fn wallet_txs(&self, user_id: u64) -> anyhow::Result<Vec<WalletTx>>;
}
