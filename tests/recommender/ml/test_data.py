import numpy as np
import pytest

from recommender.ml.data import RecData, load_recbole
from recommender.ml.mapping import IdMap


def test_idmap_round_trip_and_unknown_ids():
    ids = IdMap(["b7", 3, "a"])
    assert len(ids) == 3
    assert ids.index_of(["a", "3"]).tolist() == [2, 1]
    assert ids.ids_of([0, 2]) == ["b7", "a"]
    assert ids.add(["a", "z"]).tolist() == [2, 3]
    assert ids.index_of(["nope"], missing=-1).tolist() == [-1]
    with pytest.raises(KeyError):
        ids.index_of(["nope"])
    with pytest.raises(IndexError):
        ids.ids_of([4])
    assert IdMap.from_dict(ids.to_dict()) == ids
    assert ids.to_dict() == {"ids": ["b7", "3", "a", "z"]}
    with pytest.raises(ValueError, match="duplicate"):
        IdMap.from_dict({"ids": ["1", "1"]})


def write(path, header, rows):
    path.write_text("\t".join(header) + "\n" + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")


def test_load_recbole_builds_recdata(tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    write(
        folder / "tiny.item",
        ["item_id:token", "movie_title:token_seq", "release_year:token", "class:token_seq"],
        [["10", "Heat", "1995", "Action Crime"], ["20", "Odd", "unknown", "Drama"]],
    )
    write(
        folder / "tiny.user",
        ["user_id:token", "age:token", "gender:token", "occupation:token", "zip_code:token"],
        [["u1", "30", "F", "writer", "02139"], ["u2", "", "", "", ""]],
    )
    write(
        folder / "tiny.inter",
        ["user_id:token", "item_id:token", "rating:float", "timestamp:float"],
        [["u2", "20", "4", "100"], ["u1", "10", "3", "50"]],
    )
    seen = []

    def encode(texts):
        seen.extend(texts)
        return np.eye(len(texts), 4, dtype=np.float32)

    data = load_recbole(folder, encode)
    assert seen == [
        "Heat. Action, Crime. 1995.",
        "Odd. Drama.",
        "A 30-year-old woman working as writer, from 02139.",
        "",  # nothing known: no profile sentence (the same text the Django side builds)
    ]
    assert (data.n_users, data.n_items) == (2, 2)
    assert data.user_idx.tolist() == [1, 0] and data.item_idx.tolist() == [1, 0]
    assert data.positive.tolist() == [True, False]
    assert data.category_names == ["Action", "Crime", "Drama"]
    assert data.item_cats.tolist() == [[1, 1, 0], [0, 0, 1]]
    assert data.item_year[0] == 1995 and np.isnan(data.item_year[1])
    assert data.user_gender.tolist() == [0, -1] and data.user_occupation.tolist() == [0, -1]
    assert data.item_map.ids_of([0, 1]) == ["10", "20"]
    assert data.matrix(positives_only=False).toarray().tolist() == [[1, 0], [0, 1]]


def test_recdata_refuses_inconsistent_arrays(data):
    with pytest.raises(ValueError, match="item_idx out of range"):
        RecData(**{**vars(data), "item_idx": data.item_idx + data.n_items})
    with pytest.raises(ValueError, match="n_items"):
        RecData(**{**vars(data), "item_year": data.item_year[:-1]})


def test_first_interactions_are_the_earliest_by_timestamp_with_ties_in_data_order(data):
    # user 0: items 3 (t=5), 1 (t=2), 4 (t=2), 0 (t=9); user 1: item 2 only; user 2: nothing.
    small = RecData(
        **{
            **vars(data),
            "n_users": 3,
            "user_idx": np.array([0, 0, 0, 1, 0]),
            "item_idx": np.array([3, 1, 4, 2, 0]),
            "value": np.full(5, 4.0),
            "timestamp": np.array([5.0, 2.0, 2.0, 1.0, 9.0]),
            "positive": np.ones(5, dtype=bool),
            "user_text": data.user_text[:3],
            "user_age": data.user_age[:3],
            "user_gender": data.user_gender[:3],
            "user_occupation": data.user_occupation[:3],
            "user_interests": data.user_interests[:3],
        }
    )
    first = small.first_interactions(2).toarray()
    assert first.shape == (3, data.n_items)
    assert np.flatnonzero(first[0]).tolist() == [1, 4]
    assert np.flatnonzero(first[1]).tolist() == [2]
    assert not first[2].any()
    assert np.flatnonzero(small.first_interactions(3).toarray()[0]).tolist() == [1, 3, 4]
    # Each row's place in its user's time order (1-based; the tie at t=2 keeps data order).
    assert small.time_positions().tolist() == [3, 1, 2, 1, 4]
