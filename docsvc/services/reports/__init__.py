"""Reports: the dashboard of an agency and its units, and its exports (CSV, XLSX, PDF)."""
