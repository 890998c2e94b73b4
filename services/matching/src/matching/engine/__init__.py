"""The matching engine: an OR-Tools CP-SAT model that assigns clinicians to shifts under every
rule of licensing and time, maximising the value of filled shifts minus clinicians' cost."""
