"""02_collab_bias: the questionnaire's checks, with the answers a learner could give."""
from ...exercise import question

QUESTIONS = [
    question("q_bias_shape_answer", 1, "q_bias_shape", "b", ("a", "b", "c"),
             doc="q_bias_shape: the shape of self.user_bias(users) for a batch of B users.",
             right={"the right letter in capitals, with spaces": '" B "'}, wrong={"answer a": '"a"'}),
    question("q_cold_start_answer", 1, "q_cold_start", "c", ("a", "b", "c"),
             doc="q_cold_start: what the model predicts for a new user, whose factors and bias are zero.",
             right={"the right letter in capitals": '"C"'}, wrong={"answer a": '"a"'}),
    question("q_y_range_answer", 1, "q_y_range", 2.75,
             doc="q_y_range: the prediction when u · i + b_u + b_i = 0 and y_range = (0, 5.5).",
             right={"the fraction written out": "5.5 / 2"}, wrong={"0.5, sigmoid(0) without the range": "0.5"}),
]
