"""KPI definitions (pure functions over facts), their rollups, reports and staffing."""
