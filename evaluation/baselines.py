"""Baselines trained on the same training split: is the transformer worth its cost?"""
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union

from model.formulations import TargetPair
from model.labels import LABEL2ID


def majority(train_labels: np.ndarray, n_test: int) -> np.ndarray:
    """Each target's most frequent training label, for every test article."""
    modes = [np.bincount(train_labels[:, t]).argmax() for t in range(train_labels.shape[1])]
    return np.tile(modes, (n_test, 1))


def _fit_predict(train_texts, y: np.ndarray, test_texts, seed: int) -> np.ndarray:
    """Word 1-2-grams and character 2-5-grams, TF-IDF weighted, a logistic regression."""
    if len(np.unique(y)) == 1:  # a single class: nothing to learn
        return np.full(len(test_texts), y[0])
    features = make_union(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                          TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True))
    clf = make_pipeline(features, LogisticRegression(max_iter=2000, class_weight="balanced", random_state=seed))
    return clf.fit(train_texts, y).predict(test_texts)


def tfidf_logreg(train_texts, train_labels: np.ndarray, test_texts, seed: int = 0) -> np.ndarray:
    """One classifier per target, each reading the whole article."""
    return np.stack([_fit_predict(train_texts, train_labels[:, t], test_texts, seed)
                     for t in range(train_labels.shape[1])], axis=1)


def focused_tfidf_logreg(reader: TargetPair, tokenizer, train_texts, train_labels: np.ndarray, test_texts,
                         seed: int = 0) -> np.ndarray:
    """One classifier per target, each reading the run's focused excerpts for that target (the
    text a `target_pair` model reads), with the same rule: a target never named is `none`.
    What the transformer adds beyond keywords near the target shows against this one."""
    train_pairs, _ = reader.excerpts(list(train_texts), tokenizer)
    test_pairs, _ = reader.excerpts(list(test_texts), tokenizer)
    pred = np.full((len(test_texts), len(reader.targets)), LABEL2ID["none"])
    for t in range(len(reader.targets)):
        train_rows = [(i, x) for i, u, x in train_pairs if u == t]
        test_rows = [(i, x) for i, u, x in test_pairs if u == t]
        if not train_rows or not test_rows:
            continue
        y = train_labels[[i for i, _ in train_rows], t]
        pred[[i for i, _ in test_rows], t] = _fit_predict([x for _, x in train_rows], y,
                                                          [x for _, x in test_rows], seed)
    return pred
