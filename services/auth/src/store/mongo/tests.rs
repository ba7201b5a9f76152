//! Tests of the MongoDB users store.
