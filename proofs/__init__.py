"""The theorem catalogue of calculi: ``python -m proofs`` checks every registered theorem."""
