"""explode_contents: one row per viewer x content, no viewer lost."""

from __future__ import annotations

import pytest

import vidiframe as vf


def test_a_viewer_without_contents_keeps_one_row_with_null_content() -> None:
    body = {
        "state": "finished",
        "data": [
            {
                "location_id": 1,
                "start_time": "2018-01-14T09:29:10",
                "dwell_time": 29,
                "contents": [],
            },
            {
                "location_id": 2,
                "start_time": "2018-01-14T09:21:54",
                "dwell_time": 10,
                "contents": [
                    {"content_id": "a", "dwell_time": 928, "happy_time": 0},
                    {"content_id": "b", "dwell_time": 15, "happy_time": 542},
                ],
            },
        ],
    }
    apc = vf.read_vidicenter(body, data_type="viewers_apc", time_resolution="finest")
    long = vf.explode_contents(apc)
    assert long.select(
        "location_id",
        "dwell_time_s",
        "content_id",
        "dwell_time_in_milliseconds",
        "content_dwell_time_s",
        "happy_time_s",
    ).rows() == [
        (1, 2.9, None, None, None, None),
        (2, 1.0, "a", 928, 0.928, 0.0),
        (2, 1.0, "b", 15, 0.015, 0.542),
    ]
    assert "contents" not in long.columns


def test_a_frame_without_contents_is_refused() -> None:
    df = vf.read_vidicenter(
        {"state": "finished", "data": []}, data_type="ots", time_resolution="1h"
    )
    with pytest.raises(vf.SchemaError, match="needs a viewers_apc frame"):
        vf.explode_contents(df)
