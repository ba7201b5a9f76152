//! Starting redis for tests (to be written).
