"""One replication: the stage table and rules (written once), the SimPy model, the compiled engine, initial states."""
