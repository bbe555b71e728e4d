-- Every loaded source file with its publisher, licence and load time (dataset_load).
SELECT dataset, source_file, publisher, licence, attribution, row_count, loaded_at
FROM dataset_load
ORDER BY dataset;
