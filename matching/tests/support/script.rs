//! A tiny command language so scenarios read like the spec, one line per command:
//!
//! ```text
//! #1 u1 sell 10 @ 100                  limit GTC
//! #2 u2 buy 5 @ 101 ioc                 time in force: gtc (default) ioc fok
//! #3 u2 buy 5 market cap 500 fok        market (IOC by default), optional quote cap
//! #4 u1 sell 5 @ 100 post stp=decrement stop 95
//! cancel #1 u1 | reduce #1 u1 by 3 | cancel-all u1
//! book                                  the ladder, asks high to low then bids high to low
//! ```

use matching::{
    Action, Command, NewOrder, Notional, OrderId, OrderKind, Price, Quantity, SelfTradePrevention,
    Side, StockId, TimeInForce, UserId,
};

/// The stock every scenario trades.
pub const STOCK: StockId = StockId(7);

/// Parses one command line into a command with the given sequence number.
pub fn parse_command(line: &str, sequence: u64) -> Command {
    let words: Vec<&str> = line.split_whitespace().collect();
    let action = match words[0] {
        "cancel" => Action::Cancel {
            order_id: order_id(words[1]),
            user_id: user_id(words[2]),
        },
        "reduce" => {
            assert_eq!(words[3], "by", "reduce #id uN by Q: {line}");
            Action::Reduce {
                order_id: order_id(words[1]),
                user_id: user_id(words[2]),
                by: Quantity(number(words[4])),
            }
        }
        "cancel-all" => Action::CancelAll {
            user_id: user_id(words[1]),
        },
        _ => Action::Place(parse_order(&words, line)),
    };
    Command {
        stock_id: STOCK,
        sequence,
        timestamp_ns: 1_000 + sequence,
        action,
    }
}

fn parse_order(words: &[&str], line: &str) -> NewOrder {
    let side = match words[2] {
        "buy" => Side::Buy,
        "sell" => Side::Sell,
        other => panic!("side {other:?} in {line}"),
    };
    let quantity = Quantity(number(words[3]));
    let mut rest = &words[4..];
    let kind = if rest.first() == Some(&"@") {
        let price = Price(number(rest[1]));
        rest = &rest[2..];
        OrderKind::Limit { price }
    } else {
        assert_eq!(rest.first(), Some(&"market"), "@ PRICE or market: {line}");
        rest = &rest[1..];
        let mut quote_cap = None;
        if rest.first() == Some(&"cap") {
            quote_cap = Some(Notional(u128::from(number(rest[1]))));
            rest = &rest[2..];
        }
        OrderKind::Market { quote_cap }
    };
    let mut order = NewOrder {
        order_id: order_id(words[0]),
        user_id: user_id(words[1]),
        side,
        kind,
        quantity,
        time_in_force: match kind {
            OrderKind::Limit { .. } => TimeInForce::Gtc,
            OrderKind::Market { .. } => TimeInForce::Ioc,
        },
        post_only: false,
        self_trade: SelfTradePrevention::Skip,
        stop_price: None,
    };
    let mut options = rest.iter();
    while let Some(option) = options.next() {
        match *option {
            "gtc" => order.time_in_force = TimeInForce::Gtc,
            "ioc" => order.time_in_force = TimeInForce::Ioc,
            "fok" => order.time_in_force = TimeInForce::Fok,
            "post" => order.post_only = true,
            "stop" => order.stop_price = options.next().map(|p| Price(number(p))),
            stp if stp.starts_with("stp=") => order.self_trade = parse_stp(&stp[4..]),
            other => panic!("option {other:?} in {line}"),
        }
    }
    order
}

fn parse_stp(name: &str) -> SelfTradePrevention {
    match name {
        "skip" => SelfTradePrevention::Skip,
        "cancel-newest" => SelfTradePrevention::CancelNewest,
        "cancel-oldest" => SelfTradePrevention::CancelOldest,
        "cancel-both" => SelfTradePrevention::CancelBoth,
        "decrement" => SelfTradePrevention::Decrement,
        other => panic!("stp mode {other:?}"),
    }
}

fn order_id(word: &str) -> OrderId {
    OrderId(number(
        word.strip_prefix('#')
            .unwrap_or_else(|| panic!("order id #N, got {word:?}")),
    ))
}

fn user_id(word: &str) -> UserId {
    UserId(number(
        word.strip_prefix('u')
            .unwrap_or_else(|| panic!("user uN, got {word:?}")),
    ))
}

fn number(word: &str) -> u64 {
    word.replace('_', "")
        .parse()
        .unwrap_or_else(|_| panic!("number, got {word:?}"))
}
