"""06_mnist_sgd: the questionnaire's checks, and answers a learner could write for them."""
from ...exercise import alternative, mistake, question

QUESTIONS = [
    question("question_raw_scores", 1, "q_raw_scores", "b", ("a", "b", "c")),
    question("question_adam_inside", 1, "q_adam_inside", "c", ("a", "b", "c")),
    question("question_n_params", 1, "q_n_params", 39760, rel_tol=0.0),
]

QUESTION_VARIANTS = [
    alternative("q_raw_scores", "the letter in capitals", 'q_raw_scores = "B"'),
    mistake("q_raw_scores", "answering (a)", 'q_raw_scores = "a"'),
    alternative("q_adam_inside", "the letter with spaces", 'q_adam_inside = " c "'),
    mistake("q_adam_inside", "answering (b)", 'q_adam_inside = "b"'),
    alternative("q_n_params", "written as a sum", "q_n_params = 784 * 50 + 50 + 50 * 10 + 10"),
    mistake("q_n_params", "counting the weights but not the biases", "q_n_params = 784 * 50 + 50 * 10"),
]
