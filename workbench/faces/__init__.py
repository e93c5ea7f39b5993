"""What people use: the command line, the explorer, the report, charts and exports."""
