"""05_cross_entropy: the questionnaire's checks and the answers a learner could give."""
from ...exercise import alternative, mistake, question

QUESTIONS = [
    question("q_softmax_shift_answer", 1, "q_softmax_shift", "a", choices=("a", "b", "c"),
             doc="q_softmax_shift names what subtracting the max does to the softmax."),
    question("q_table_loss_answer", 1, "q_table_loss", 1.0,
             doc="q_table_loss is the lesson's table's loss for Pred(Cat) = 0.1 on a cat, in its base-10 units."),
    question("q_grad_entry_answer", 1, "q_grad_entry", -0.1,
             doc="q_grad_entry is one entry of the gradient of the mean cross-entropy for a batch of 2."),
]

QUESTION_VARIANTS = [
    alternative("q_softmax_shift", "a capital letter", 'q_softmax_shift = "A"'),
    mistake("q_softmax_shift", "the shift changes the probabilities", 'q_softmax_shift = "b"'),
    alternative("q_table_loss", "written as -log10(0.1)", "q_table_loss = -math.log10(0.1)"),
    mistake("q_table_loss", "the natural log, not the table's base 10", "q_table_loss = -math.log(0.1)"),
    alternative("q_grad_entry", "as a fraction", "q_grad_entry = (0.8 - 1) / 2"),
    mistake("q_grad_entry", "without the division by B", "q_grad_entry = 0.8 - 1"),
]
