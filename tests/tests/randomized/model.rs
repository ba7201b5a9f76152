//! A naive reference model of the course exchange: wallets, holdings and one ask list per stock.
//! It predicts whether each request succeeds and what every account looks like afterwards.

/// A resting sell in the model.
#[derive(Clone, Debug)]
pub struct Ask {
    /// Owner (index into the users).
    pub user: usize,
    /// The API's `stock_tx_id` of the order.
    pub order_id: String,
    /// Limit price in cents.
    pub price_cents: i128,
    /// Unfilled quantity.
    pub remaining: u64,
    /// Placement sequence (time priority).
    pub sequence: u64,
}

/// The model's state.
#[derive(Clone, Debug)]
pub struct Model {
    /// Cash per user, cents.
    pub cash_cents: Vec<i128>,
    /// Deposits per user, cents.
    pub deposits_cents: Vec<i128>,
    /// Holdings (excluding escrow) per user per stock.
    pub holdings: Vec<Vec<u64>>,
    /// Shares ever added per stock.
    pub shares_added: Vec<u64>,
    /// Resting asks per stock.
    pub asks: Vec<Vec<Ask>>,
    next_sequence: u64,
}

/// One fill a market buy would make.
#[derive(Clone, Debug)]
pub struct Fill {
    /// Index of the ask in the stock's list.
    pub ask_index: usize,
    /// Filled quantity.
    pub quantity: u64,
}

impl Model {
    /// Empty accounts for `users` users and `stocks` stocks.
    pub fn new(users: usize, stocks: usize) -> Self {
        Self {
            cash_cents: vec![0; users],
            deposits_cents: vec![0; users],
            holdings: vec![vec![0; stocks]; users],
            shares_added: vec![0; stocks],
            asks: vec![Vec::new(); stocks],
            next_sequence: 0,
        }
    }

    /// Records a deposit.
    pub fn deposit(&mut self, user: usize, cents: i128) {
        self.cash_cents[user] += cents;
        self.deposits_cents[user] += cents;
    }

    /// Records shares added.
    pub fn add_shares(&mut self, user: usize, stock: usize, quantity: u64) {
        self.holdings[user][stock] += quantity;
        self.shares_added[stock] += quantity;
    }

    /// Whether a limit sell of `quantity` is acceptable.
    pub fn can_sell(&self, user: usize, stock: usize, quantity: u64) -> bool {
        quantity > 0 && quantity <= self.holdings[user][stock]
    }

    /// Records an accepted limit sell (course sells never cross: only sells rest).
    pub fn sell(
        &mut self,
        user: usize,
        stock: usize,
        quantity: u64,
        price_cents: i128,
        order_id: String,
    ) {
        self.holdings[user][stock] -= quantity;
        self.next_sequence += 1;
        self.asks[stock].push(Ask {
            user,
            order_id,
            price_cents,
            remaining: quantity,
            sequence: self.next_sequence,
        });
    }

    /// The fills of an all-or-nothing market buy, or `None` when it must be rejected (not enough
    /// shares from other users, or more expensive than the buyer's cash).
    pub fn plan_market_buy(&self, user: usize, stock: usize, quantity: u64) -> Option<Vec<Fill>> {
        let mut candidates: Vec<usize> = (0..self.asks[stock].len())
            .filter(|&index| self.asks[stock][index].user != user)
            .collect();
        candidates.sort_by_key(|&index| {
            let ask = &self.asks[stock][index];
            (ask.price_cents, ask.sequence)
        });
        let mut fills = Vec::new();
        let (mut wanted, mut cost) = (quantity, 0_i128);
        for ask_index in candidates {
            if wanted == 0 {
                break;
            }
            let ask = &self.asks[stock][ask_index];
            let take = wanted.min(ask.remaining);
            cost += ask.price_cents * i128::from(take);
            wanted -= take;
            fills.push(Fill {
                ask_index,
                quantity: take,
            });
        }
        (quantity > 0 && wanted == 0 && cost <= self.cash_cents[user]).then_some(fills)
    }

    /// Applies the fills of an accepted market buy.
    pub fn market_buy(&mut self, user: usize, stock: usize, fills: &[Fill]) {
        for fill in fills {
            let ask = &mut self.asks[stock][fill.ask_index];
            let amount = ask.price_cents * i128::from(fill.quantity);
            ask.remaining -= fill.quantity;
            self.cash_cents[ask.user] += amount;
            self.cash_cents[user] -= amount;
            self.holdings[user][stock] += fill.quantity;
        }
        self.asks[stock].retain(|ask| ask.remaining > 0);
    }

    /// The resting ask with this order id, as (stock, index).
    pub fn find_ask(&self, order_id: &str) -> Option<(usize, usize)> {
        self.asks.iter().enumerate().find_map(|(stock, asks)| {
            asks.iter()
                .position(|ask| ask.order_id == order_id)
                .map(|index| (stock, index))
        })
    }

    /// Records a cancel of a resting ask: its remainder returns to the owner.
    pub fn cancel(&mut self, stock: usize, index: usize) {
        let ask = self.asks[stock].remove(index);
        self.holdings[ask.user][stock] += ask.remaining;
    }

    /// Best ask per stock in cents.
    pub fn best_ask_cents(&self, stock: usize) -> Option<i128> {
        self.asks[stock].iter().map(|ask| ask.price_cents).min()
    }
}
