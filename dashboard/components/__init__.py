"""Small layout factories: the shell, KPI cards, the filter bar, grids."""
