"""Models written once with backend.numpy: the MLP classifier and the Griffin language model."""
