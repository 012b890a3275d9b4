"""06_mnist_sgd: the questionnaire's checks, with the answers a learner could give."""
from ...exercise import question

QUESTIONS = [
    question("question_raw_scores", 1, "q_raw_scores", "b", ("a", "b", "c"),
             right={"the letter in capitals": '"B"'}, wrong={"answering (a)": '"a"'}),
    question("question_adam_inside", 1, "q_adam_inside", "c", ("a", "b", "c"),
             right={"the letter with spaces": '" c "'}, wrong={"answering (b)": '"b"'}),
    question("question_n_params", 1, "q_n_params", 39760, rel_tol=0.0,
             right={"written as a sum": "784 * 50 + 50 + 50 * 10 + 10"},
             wrong={"counting the weights but not the biases": "784 * 50 + 50 * 10"}),
]
