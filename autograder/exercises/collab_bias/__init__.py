"""02_collab_bias: collaborative filtering with biases. One declaration per graded cell, and the answers a
learner could write (correct alternatives and plausible mistakes).

The reference `DotProductBias` calls the learner's `sigmoid_range`, so the model's cells also grade
`sigmoid_range`. `rmse`, `item_bias_ranking` and `most_similar` are given models made by the scenarios
(not the learner's `DotProductBias`), so a broken model costs only the model's cells.
"""
from ...exercise import Check, variants_of
from .analysis import ANALYSIS_VARIANTS
from .analysis_cases import pca_cases, ranking_cases, rmse_cases, similar_cases
from .model import MODEL_VARIANTS
from .model_cases import shapes_cases, sigmoid_range_cases, trains_cases, values_cases
from .questions import QUESTIONS

NOTEBOOK, REFERENCE = "02_collab_bias", "solutions.collab_bias"

CHECKS = [
    Check("sigmoid_range_values", 1, "sigmoid_range", "basic.call", sigmoid_range_cases),
    Check("dot_product_bias_shapes", 1, ("DotProductBias", "sigmoid_range"), "collab_bias.shapes", shapes_cases,
          title="DotProductBias"),
    Check("dot_product_bias_values", 2, ("DotProductBias", "sigmoid_range"), "collab_bias.forward", values_cases,
          title="DotProductBias forward"),
    Check("dot_product_bias_trains", 2, ("DotProductBias", "sigmoid_range"), "collab_bias.trains", trains_cases,
          title="DotProductBias trains"),
    Check("rmse_values", 1, "rmse", "collab_bias.rmse", rmse_cases),
    Check("item_bias_ranking_values", 1, "item_bias_ranking", "collab_bias.ranking", ranking_cases),
    Check("most_similar_values", 2, "most_similar", "collab_bias.similar", similar_cases),
    Check("pca_values", 2, "pca", "basic.call", pca_cases),
    *QUESTIONS,
]

VARIANTS = MODEL_VARIANTS + ANALYSIS_VARIANTS + variants_of(QUESTIONS)
