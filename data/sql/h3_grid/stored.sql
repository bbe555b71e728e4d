-- Whether any grid is stored: with none (a first load), every computed cell is new and there
-- is nothing to compare with, delete or update.
SELECT EXISTS (SELECT 1 FROM h3_coverage) OR EXISTS (SELECT 1 FROM h3_cell_adults)
