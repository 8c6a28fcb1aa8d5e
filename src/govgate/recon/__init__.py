"""Weekly SLA snapshot reconciliation (lesson 166): inputs, diff engine and governance state."""
