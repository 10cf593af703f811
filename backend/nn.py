"""``backend.nn``: neural-network functions under JAX's ``jax.nn`` names.

The definitions are at the ``backend.numpy`` level (models spell them ``bnp.softmax``); this module
imports that one and adds nothing but the names, one way (``backend.numpy`` does not import it).
"""

from __future__ import annotations

from backend.numpy import conv1d as conv1d
from backend.numpy import gelu as gelu
from backend.numpy import linear_scan as linear_scan
from backend.numpy import log_softmax as log_softmax
from backend.numpy import logistic as logistic
from backend.numpy import logsumexp as logsumexp
from backend.numpy import one_hot as one_hot
from backend.numpy import relu as relu
from backend.numpy import sigmoid as sigmoid
from backend.numpy import silu as silu
from backend.numpy import softmax as softmax
from backend.numpy import softplus as softplus
from backend.numpy import sqrt_bound_derivative as sqrt_bound_derivative

swish = silu
