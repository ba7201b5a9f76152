//! Starting mongo for tests (to be written).
