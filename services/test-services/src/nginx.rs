//! Starting nginx for tests (to be written).
