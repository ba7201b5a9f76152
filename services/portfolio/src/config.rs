//! Settings of the portfolio role (none yet beyond the shared store).

/// Settings of the portfolio role.
#[derive(Debug, Clone, Default)]
pub struct PortfolioConfig;
