"""Train a ``bayes`` model from ham and spam: the library side of ``hrdp train``.

Reads anything ``classify`` reads (message files, directories, mbox, Maildir,
compressed files) through ``sources.iter_messages``; a message or a path that cannot
be read is skipped and reported, never the end of a run. An existing model file is
loaded and added to (training again adds counts, as SpamBayes' sb_mboxtrain does);
the result is saved atomically, so an interrupted run leaves the old model intact.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hrdp.message import ParsedMessage
from hrdp.scoring.bayes import BayesModel
from hrdp.sources import iter_messages

Report = Callable[[str], None]


@dataclass(frozen=True)
class TrainStats:
    """What one training run learnt, and the model's totals after it."""

    ham: int  # ham messages learnt in this run
    spam: int  # spam messages learnt in this run
    skipped: int  # messages (or whole paths) that could not be read or parsed
    model_ham: int  # ham in the saved model, this run included
    model_spam: int
    model_tokens: int


def _learn_from(
    paths: Sequence[str],
    spam: bool,
    model: BayesModel,
    on_error: Report,
    on_warning: Report | None,
) -> tuple[int, int]:
    """Learn every readable message of ``paths``; (learnt, skipped)."""
    learnt = skipped = 0

    def path_error(text: str) -> None:
        nonlocal skipped
        skipped += 1
        on_error(text)

    for raw in iter_messages(paths, on_error=path_error, on_warning=on_warning):
        where = f"{raw.source}" + (f" (message {raw.index + 1})" if raw.index else "")
        if raw.data is None or not raw.data.strip():
            skipped += 1
            on_error(f"{where}: {raw.error or 'empty message'}, skipped")
            continue
        try:
            message = ParsedMessage(raw.data, mbox_from=raw.mbox_from)
            if not message.has_headers:
                raise ValueError("no header fields: not an RFC 5322 message")
            model.learn(message, spam)
        except Exception as exc:  # one odd message must not end a training run
            skipped += 1
            on_error(f"{where}: {' '.join(str(exc).split()) or type(exc).__name__}, skipped")
            continue
        learnt += 1
    return learnt, skipped


def _ignore(_text: str) -> None:
    pass


def train(
    ham: Sequence[str],
    spam: Sequence[str],
    model: str,
    *,
    on_error: Report | None = None,
    on_warning: Report | None = None,
) -> TrainStats:
    """Add the messages of ``ham`` and ``spam`` (paths) to the model file ``model``.

    The file is created when it does not exist. ScorerError when it exists but is not a
    valid model (it is left alone); OSError when it cannot be written.
    """
    learner = BayesModel.load(model) if os.path.exists(model) else BayesModel()
    report = on_error or _ignore
    ham_learnt, ham_skipped = _learn_from(ham, False, learner, report, on_warning)
    spam_learnt, spam_skipped = _learn_from(spam, True, learner, report, on_warning)
    learner.save(model)
    return TrainStats(
        ham=ham_learnt,
        spam=spam_learnt,
        skipped=ham_skipped + spam_skipped,
        model_ham=learner.ham_count,
        model_spam=learner.spam_count,
        model_tokens=len(learner.tokens),
    )
