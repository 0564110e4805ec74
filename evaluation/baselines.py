"""Baselines trained on the same training split: is the transformer worth its cost?"""
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union


def majority(train_labels: np.ndarray, n_test: int) -> np.ndarray:
    """Each target's most frequent training label, for every test article."""
    modes = [np.bincount(train_labels[:, t]).argmax() for t in range(train_labels.shape[1])]
    return np.tile(modes, (n_test, 1))


def tfidf_logreg(train_texts, train_labels: np.ndarray, test_texts, seed: int = 0) -> np.ndarray:
    """Word 1-2-grams and character 2-5-grams, TF-IDF weighted, one logistic regression per target."""
    preds = []
    for t in range(train_labels.shape[1]):
        y = train_labels[:, t]
        if len(np.unique(y)) == 1:  # a single class: nothing to learn
            preds.append(np.full(len(test_texts), y[0]))
            continue
        features = make_union(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                              TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True))
        clf = make_pipeline(features, LogisticRegression(max_iter=2000, class_weight="balanced", random_state=seed))
        preds.append(clf.fit(train_texts, y).predict(test_texts))
    return np.stack(preds, axis=1)
