"""02_collab_bias: the questionnaire's checks and the answers a learner could give."""
from ...exercise import alternative, mistake, question

QUESTIONS = [
    question("q_bias_shape_answer", 1, "q_bias_shape", "b", ("a", "b", "c"),
             doc="q_bias_shape: the shape of self.user_bias(users) for a batch of B users."),
    question("q_cold_start_answer", 1, "q_cold_start", "c", ("a", "b", "c"),
             doc="q_cold_start: what the model predicts for a new user, whose factors and bias are zero."),
    question("q_y_range_answer", 1, "q_y_range", 2.75,
             doc="q_y_range: the prediction when u · i + b_u + b_i = 0 and y_range = (0, 5.5)."),
]

QUESTION_VARIANTS = [
    alternative("q_bias_shape", "the right letter in capitals, with spaces", 'q_bias_shape = " B "'),
    mistake("q_bias_shape", "answer a", 'q_bias_shape = "a"'),
    alternative("q_cold_start", "the right letter in capitals", 'q_cold_start = "C"'),
    mistake("q_cold_start", "answer a", 'q_cold_start = "a"'),
    alternative("q_y_range", "the fraction written out", 'q_y_range = 5.5 / 2'),
    mistake("q_y_range", "0.5, sigmoid(0) without the range", 'q_y_range = 0.5'),
]
