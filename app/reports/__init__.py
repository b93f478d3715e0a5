"""Employment reports, the monthly roster, the insurance register and the station dashboard."""
