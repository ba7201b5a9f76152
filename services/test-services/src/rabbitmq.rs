//! Starting rabbitmq for tests (to be written).
