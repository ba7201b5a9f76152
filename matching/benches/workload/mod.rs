//! The benchmark workload generator, shared by the benches (and by `tests/peers.rs`) through
//! `#[path]` includes so that it never enters the default build of the crate.
//!
//! Modelled on exchange-core's benchmark style: a seeded, deterministic stream of commands for one
//! book, generated up front with the engine in the loop (so cancels and reduces always name an
//! order that is live at that point), then replayed by the timed code. Order ids are the command
//! sequence + 1, so they are strictly increasing; every order has its own user, so self-trade
//! prevention never triggers and peers without STP see the same trades.
//!
//! Mixes (weights per command of the timed stream; a controller keeps the book near its target
//! size by turning a removal into a place when the book is 10 % under target, and a place into a
//! cancel when it is 10 % over, so the realised mix is within a few points of the nominal one):
//!
//! | workload | resting target | prices of places | place / cancel / take / reduce |
//! |---|---|---|---|
//! | normal | 1,000 | mid ± 1..=20 ticks, skewed to the mid | 50 / 35 / 10 / 5 |
//! | deep | 20,000 | mid ± 1..=30 ticks, uniform (~60 levels) | 50 / 35 / 10 / 5 |
//! | fast | 1,000 | walking mid ± 1..=8 ticks; the mid moves ±1 tick on 1 command in 4 | 50 / 35 / 10 / 5 |
//!
//! Places are GTC limits of 1..=100 lots. Takers are half IOC limits 3 ticks through the mid,
//! half market orders, 1..=150 lots (about 1.5 resting orders). Reduces take 1..remainder-1 lots
//! off a live order (a one-lot order is reduced to zero). The `peer` variant of each mix has no
//! reduces (nanobook has no reduce keeping priority): 55 / 35 / 10 / 0.

#![allow(dead_code, missing_docs)]

pub mod peers;

use matching::{
    Action, Command, Engine, Event, NewOrder, OrderId, OrderKind, Price, Quantity,
    SelfTradePrevention, Side, StockId, TimeInForce, UserId,
};

/// The one stock the benches trade.
pub const STOCK: StockId = StockId(1);
/// The starting mid price in ticks.
pub const MID: u64 = 100_000;

/// What a command of the stream does, for per-operation latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// A GTC limit (may trade when marketable, then rests).
    Place,
    /// A cancel of a live order.
    Cancel,
    /// An IOC limit or a market order.
    Take,
    /// A reduce of a live order.
    Reduce,
}

impl Op {
    pub const ALL: [Op; 4] = [Op::Place, Op::Cancel, Op::Take, Op::Reduce];

    pub fn name(self) -> &'static str {
        match self {
            Op::Place => "place",
            Op::Cancel => "cancel",
            Op::Take => "take",
            Op::Reduce => "reduce",
        }
    }
}

/// Weights of the operations, in percent.
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    pub place: u32,
    pub cancel: u32,
    pub take: u32,
    pub reduce: u32,
}

impl Mix {
    pub const NORMAL: Mix = Mix {
        place: 50,
        cancel: 35,
        take: 10,
        reduce: 5,
    };
    /// What both peers support: no reduce.
    pub const PEER: Mix = Mix {
        place: 55,
        cancel: 35,
        take: 10,
        reduce: 0,
    };
}

/// How places are priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Fixed mid, offsets 1..=levels skewed towards the mid (min of two uniforms).
    Normal,
    /// Fixed mid, offsets 1..=levels uniform.
    Deep,
    /// Mid walks ±1 tick on a quarter of the commands; offsets 1..=levels uniform.
    Walk,
}

/// A workload's parameters.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    pub resting_target: usize,
    pub levels_per_side: u64,
    pub shape: Shape,
    pub mix: Mix,
    pub seed: u64,
    /// Peer-safe pricing: GTC places never cross and IOC limits ask no more than the liquidity
    /// within their limit, so no order ever has to stop at its limit price mid-sweep
    /// (matchcore 0.4.0 sweeps a crossing limit order past its limit price).
    pub bounded: bool,
}

impl Spec {
    pub fn normal() -> Self {
        Spec {
            name: "normal",
            resting_target: 1_000,
            levels_per_side: 20,
            shape: Shape::Normal,
            mix: Mix::NORMAL,
            seed: 1,
            bounded: false,
        }
    }

    pub fn deep() -> Self {
        Spec {
            name: "deep",
            resting_target: 20_000,
            levels_per_side: 30,
            shape: Shape::Deep,
            mix: Mix::NORMAL,
            seed: 2,
            bounded: false,
        }
    }

    pub fn fast() -> Self {
        Spec {
            name: "fast",
            resting_target: 1_000,
            levels_per_side: 8,
            shape: Shape::Walk,
            mix: Mix::NORMAL,
            seed: 3,
            bounded: false,
        }
    }

    pub fn all() -> [Spec; 3] {
        [Self::normal(), Self::deep(), Self::fast()]
    }

    pub fn by_name(name: &str) -> Option<Spec> {
        Self::all().into_iter().find(|s| s.name == name)
    }

    /// The same book and prices without reduces and with peer-safe pricing, for the
    /// side-by-side comparison.
    pub fn peer(self) -> Self {
        Spec {
            mix: Mix::PEER,
            bounded: true,
            ..self
        }
    }
}

/// A generated workload: commands that build the starting book, then the timed stream.
#[derive(Debug, Clone)]
pub struct Workload {
    pub spec: Spec,
    pub prefill: Vec<Command>,
    pub stream: Vec<Command>,
    /// The operation of each command of `stream`.
    pub ops: Vec<Op>,
}

impl Workload {
    /// How many commands of each operation the stream has (place, cancel, take, reduce).
    pub fn op_counts(&self) -> [usize; 4] {
        let mut counts = [0; 4];
        for op in &self.ops {
            counts[Op::ALL.iter().position(|o| o == op).unwrap_or(0)] += 1;
        }
        counts
    }

    /// An engine with the prefill applied (clone it for each timed run).
    pub fn prefilled_engine(&self) -> Engine {
        let mut engine = Engine::new();
        let mut out = Vec::new();
        for command in &self.prefill {
            out.clear();
            engine.apply(command, &mut out);
        }
        engine
    }
}

/// SplitMix64: small, fast, seeded, good enough for workload shapes.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    pub fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }
}

/// The set of live order ids with O(1) insert, remove and uniform pick.
#[derive(Debug, Default)]
struct Live {
    ids: Vec<u64>,
    /// Position in `ids` by order id (ids are dense: sequence + 1).
    pos: Vec<u32>,
}

impl Live {
    fn insert(&mut self, id: u64) {
        let i = usize::try_from(id).unwrap_or(usize::MAX);
        if self.pos.len() <= i {
            self.pos.resize(i + 1, u32::MAX);
        }
        self.pos[i] = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        self.ids.push(id);
    }

    fn remove(&mut self, id: u64) {
        let i = usize::try_from(id).unwrap_or(usize::MAX);
        let Some(&p) = self.pos.get(i) else { return };
        if p == u32::MAX {
            return;
        }
        let last = self.ids.len() - 1;
        self.ids.swap(p as usize, last);
        let moved = self.ids[p as usize];
        self.pos[usize::try_from(moved).unwrap_or(0)] = p;
        self.ids.pop();
        self.pos[i] = u32::MAX;
    }

    fn pick(&self, rng: &mut Rng) -> Option<u64> {
        if self.ids.is_empty() {
            return None;
        }
        let n = self.ids.len() as u64;
        Some(self.ids[usize::try_from(rng.next_u64() % n).unwrap_or(0)])
    }
}

/// The generator's state: the engine in the loop, the live set, the mid.
struct Generator {
    spec: Spec,
    rng: Rng,
    engine: Engine,
    live: Live,
    mid: u64,
    sequence: u64,
    out: Vec<Event>,
}

impl Generator {
    fn new(spec: Spec) -> Self {
        Generator {
            spec,
            rng: Rng::new(spec.seed),
            engine: Engine::new(),
            live: Live::default(),
            mid: MID,
            sequence: 0,
            out: Vec::new(),
        }
    }

    fn command(&mut self, action: Action) -> Command {
        let command = Command {
            stock_id: STOCK,
            sequence: self.sequence,
            timestamp_ns: 1_000 * self.sequence,
            action,
        };
        self.sequence += 1;
        command
    }

    /// Applies the command to the engine in the loop and updates the live set.
    fn apply(&mut self, command: &Command) {
        self.out.clear();
        self.engine.apply(command, &mut self.out);
        for event in &self.out {
            if let Event::Done { order_id, .. } = event {
                self.live.remove(order_id.0);
            }
        }
        if let Action::Place(order) = command.action {
            let rested = self
                .engine
                .book(STOCK)
                .and_then(|b| b.order(order.order_id))
                .is_some();
            if rested {
                self.live.insert(order.order_id.0);
            }
        }
    }

    fn order(&self, side: Side, kind: OrderKind, quantity: u64, tif: TimeInForce) -> NewOrder {
        let id = self.sequence + 1;
        NewOrder {
            order_id: OrderId(id),
            user_id: UserId(id),
            side,
            kind,
            quantity: Quantity(quantity),
            time_in_force: tif,
            post_only: false,
            self_trade: SelfTradePrevention::Skip,
            stop_price: None,
        }
    }

    fn place(&mut self) -> (Command, Op) {
        let side = if self.rng.coin() {
            Side::Buy
        } else {
            Side::Sell
        };
        let levels = self.spec.levels_per_side;
        let offset = match self.spec.shape {
            Shape::Normal => self.rng.range(1, levels).min(self.rng.range(1, levels)),
            Shape::Deep | Shape::Walk => self.rng.range(1, levels),
        };
        let mut price = match side {
            Side::Buy => self.mid - offset,
            Side::Sell => self.mid + offset,
        };
        if self.spec.bounded {
            let book = self.engine.book(STOCK);
            match side {
                Side::Buy => {
                    if let Some(ask) = book.and_then(|b| b.best_ask()) {
                        price = price.min(ask.price.0 - 1);
                    }
                }
                Side::Sell => {
                    if let Some(bid) = book.and_then(|b| b.best_bid()) {
                        price = price.max(bid.price.0 + 1);
                    }
                }
            }
        }
        let quantity = self.rng.range(1, 100);
        let order = self.order(
            side,
            OrderKind::Limit {
                price: Price(price),
            },
            quantity,
            TimeInForce::Gtc,
        );
        (self.command(Action::Place(order)), Op::Place)
    }

    fn take(&mut self) -> (Command, Op) {
        let side = if self.rng.coin() {
            Side::Buy
        } else {
            Side::Sell
        };
        let mut quantity = self.rng.range(1, 150);
        let order = if self.rng.coin() {
            let price = match side {
                Side::Buy => self.mid + 3,
                Side::Sell => self.mid - 3,
            };
            if self.spec.bounded {
                let within = self.liquidity_within(side, price);
                if within > 0 {
                    quantity = quantity.min(within);
                }
            }
            self.order(
                side,
                OrderKind::Limit {
                    price: Price(price),
                },
                quantity,
                TimeInForce::Ioc,
            )
        } else {
            self.order(
                side,
                OrderKind::Market { quote_cap: None },
                quantity,
                TimeInForce::Ioc,
            )
        };
        (self.command(Action::Place(order)), Op::Take)
    }

    /// Lots resting on the other side at prices a `side` limit at `limit` accepts.
    fn liquidity_within(&self, side: Side, limit: u64) -> u64 {
        let Some(book) = self.engine.book(STOCK) else {
            return 0;
        };
        book.depth(side.opposite(), 64)
            .iter()
            .take_while(|level| match side {
                Side::Buy => level.price.0 <= limit,
                Side::Sell => level.price.0 >= limit,
            })
            .map(|level| level.quantity.0)
            .sum()
    }

    fn cancel(&mut self) -> Option<(Command, Op)> {
        let id = self.live.pick(&mut self.rng)?;
        let action = Action::Cancel {
            order_id: OrderId(id),
            user_id: UserId(id),
        };
        Some((self.command(action), Op::Cancel))
    }

    fn reduce(&mut self) -> Option<(Command, Op)> {
        let id = self.live.pick(&mut self.rng)?;
        let remaining = self.engine.book(STOCK)?.order(OrderId(id))?.remaining.0;
        let by = if remaining <= 1 {
            1
        } else {
            self.rng.range(1, remaining - 1)
        };
        let action = Action::Reduce {
            order_id: OrderId(id),
            user_id: UserId(id),
            by: Quantity(by),
        };
        Some((self.command(action), Op::Reduce))
    }

    /// The next command of the timed stream.
    fn next(&mut self) -> (Command, Op) {
        if self.spec.shape == Shape::Walk && self.rng.range(0, 3) == 0 {
            self.mid = if self.rng.coin() {
                self.mid + 1
            } else {
                self.mid - 1
            };
        }
        let mix = self.spec.mix;
        let total = mix.place + mix.cancel + mix.take + mix.reduce;
        let roll = u32::try_from(self.rng.range(0, u64::from(total) - 1)).unwrap_or(0);
        let target = self.spec.resting_target;
        let live = self.live.ids.len();
        let low = live * 10 < target * 9;
        let high = live * 10 > target * 11;
        let generated = if roll < mix.place {
            if high {
                self.cancel()
            } else {
                Some(self.place())
            }
        } else if low {
            Some(self.place())
        } else if roll < mix.place + mix.cancel {
            self.cancel()
        } else if roll < mix.place + mix.cancel + mix.take {
            Some(self.take())
        } else {
            self.reduce()
        };
        let (command, op) = generated.unwrap_or_else(|| self.place());
        self.apply(&command);
        (command, op)
    }
}

/// Generates the prefill (places until the resting target) and `commands` timed commands.
pub fn generate(spec: Spec, commands: usize) -> Workload {
    let mut generator = Generator::new(spec);
    let mut prefill = Vec::new();
    while generator.live.ids.len() < spec.resting_target {
        let (command, _) = generator.place();
        generator.apply(&command);
        prefill.push(command);
    }
    let mut stream = Vec::with_capacity(commands);
    let mut ops = Vec::with_capacity(commands);
    for _ in 0..commands {
        let (command, op) = generator.next();
        stream.push(command);
        ops.push(op);
    }
    Workload {
        spec,
        prefill,
        stream,
        ops,
    }
}

/// Applies a stream to an engine, one command at a time with a reused event Vec (the timed loop).
/// Returns the number of events, so the work cannot be optimised away.
#[inline(never)]
pub fn run_ours(engine: &mut Engine, stream: &[Command], out: &mut Vec<Event>) -> usize {
    let mut events = 0;
    for command in stream {
        out.clear();
        engine.apply(command, out);
        events += out.len();
    }
    events
}
