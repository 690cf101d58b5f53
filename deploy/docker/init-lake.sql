-- The DuckLake catalog lives in its own database beside Dagster's (DuckLake creates its tables on first attach).
CREATE DATABASE stripe_lake OWNER dagster;
