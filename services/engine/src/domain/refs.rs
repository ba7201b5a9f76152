//! The two-way map between exchange order refs and the shard's core order ids, for live orders.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// Live orders of a shard: core id <-> order ref. `FxHashMap` for point lookups only; the
/// snapshot form is sorted so it is deterministic.
#[derive(Debug, Default, Clone)]
pub struct OrderRefs {
    by_core: FxHashMap<u64, u64>,
    by_ref: FxHashMap<u64, u64>,
}

/// The persisted form: `(core id, order ref)` pairs sorted by core id.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct OrderRefsSnapshot(pub Vec<(u64, u64)>);

impl OrderRefs {
    /// Remembers a live order.
    pub fn insert(&mut self, core_id: u64, order_ref: u64) {
        self.by_core.insert(core_id, order_ref);
        self.by_ref.insert(order_ref, core_id);
    }

    /// Forgets an order that ended; returns its ref.
    pub fn remove_core(&mut self, core_id: u64) -> Option<u64> {
        let order_ref = self.by_core.remove(&core_id)?;
        self.by_ref.remove(&order_ref);
        Some(order_ref)
    }

    /// The ref of a live core order.
    pub fn order_ref(&self, core_id: u64) -> Option<u64> {
        self.by_core.get(&core_id).copied()
    }

    /// The core id of a live order ref.
    pub fn core_id(&self, order_ref: u64) -> Option<u64> {
        self.by_ref.get(&order_ref).copied()
    }

    /// The sorted persisted form.
    pub fn snapshot(&self) -> OrderRefsSnapshot {
        let mut pairs: Vec<(u64, u64)> = self.by_core.iter().map(|(c, r)| (*c, *r)).collect();
        pairs.sort_unstable();
        OrderRefsSnapshot(pairs)
    }

    /// Rebuilds from the persisted form.
    pub fn restore(snapshot: &OrderRefsSnapshot) -> Self {
        let mut refs = Self::default();
        for (core_id, order_ref) in &snapshot.0 {
            refs.insert(*core_id, *order_ref);
        }
        refs
    }
}
