"""Traffic read off HLO text, in XLA's three spellings of replica groups."""

from __future__ import annotations

import pytest

from calculi.redistribution.hlo import received_bytes

EXPLICIT = ("%all_gather.3 = f32[1366]{0} all-gather(%ppermute.3), channel_id=1, "
            "replica_groups={{0,3},{1,4},{2,5}}, dimensions={0}, use_global_device_ids=true")
NAMED = ("%all-gather = f32[4098]{0} all-gather(%param), channel_id=1, "
         "replica_groups=mesh['axis_0'=2,'axis_1'=3] {'axis_0'}, dimensions={0}")
SUB_AXIS = ("%all-to-all.1 = (f32[1,16,16]{2,1,0}, f32[1,16,16]{2,1,0}) all-to-all(%a, %b), channel_id=1, "
            "replica_groups=mesh['axis_0'=4,'axis_1'=2], device_ids=([2,2,2]T(0,2,1)) {'axis_0':(2)2}")
IOTA = "%all-to-all = (s32[4]{0}, s32[4]{0}, s32[4]{0}) all-to-all(%a, %b, %c), replica_groups=[2,3]<=[6]"
PERMUTE = ("%ppermute.3 = f32[683]{0} collective-permute(%x), channel_id=1, "
           "source_target_pairs={{0,0},{5,5},{2,1},{4,2},{1,3},{3,4}}, metadata={op_name=\"ppermute\"}")
TUPLE_WITH_INDEX = ("%all-to-all = (f32[1,8]{1,0}, f32[1,8]{1,0}, f32[1,8]{1,0}, f32[1,8]{1,0}, "
                    "/*index=4*/f32[1,8]{1,0}) all-to-all(%a, %b, %c, %d, %e), replica_groups={{0,1,2,3,4}}")


def test_all_gather_receives_all_but_its_own_part() -> None:
    assert received_bytes(EXPLICIT, 6) == 6 * 1366 * 4 // 2
    assert received_bytes(NAMED, 6) == 6 * 4098 * 4 // 2


def test_all_to_all_with_sub_axes_and_iota_groups() -> None:
    assert received_bytes(SUB_AXIS, 8) == 8 * 2 * 256 * 4 // 2
    assert received_bytes(IOTA, 6) == 6 * 12 * 4 * 2 // 3
    assert received_bytes(TUPLE_WITH_INDEX, 5) == 5 * 40 * 4 * 4 // 5


def test_collective_permute_counts_moving_pairs() -> None:
    assert received_bytes(PERMUTE, 6) == 4 * 683 * 4


def test_other_lines_move_nothing() -> None:
    text = "%fusion = f32[8]{0} fusion(%p), kind=kLoop\nROOT %copy = f32[8] copy(%fusion)"
    assert received_bytes(text, 4) == 0


LOOP = """HloModule jit_f, is_scheduled=true
%body (param.8: (s32[], f32[12,6])) -> (s32[], f32[12,6]) {
  %all_gather.6 = f32[3,1,2]{2,1,0} all-gather(%slice), channel_id=1, replica_groups={{0,1,2},{3,4,5}}
  ROOT %tuple.21 = (s32[], f32[12,6]{1,0}) tuple(%add, %dus)
}
%cond (param.7: (s32[], f32[12,6])) -> pred[] {
  ROOT %lt.22 = pred[] compare(%p0, %p1), direction=LT, metadata={op_name="jit(f)/shard_map/while/cond/lt"}
}
ENTRY %main.4_spmd (param.3: f32[12,2]) -> f32[12,6] {
  %while.13 = (s32[], f32[12,6]{1,0}) while(%tuple.19), condition=%cond, body=%body,\
 backend_config={"known_trip_count":{"n":"TRIPS"}}
  %all_gather.7 = f32[3,1,2]{2,1,0} all-gather(%slice), channel_id=2, replica_groups={{0,1,2},{3,4,5}}
  ROOT %get-tuple-element.24 = f32[12,6]{1,0} get-tuple-element(%while.13), index=1
}
"""


def test_a_collective_in_a_loop_counts_once_per_iteration() -> None:
    once = 6 * 3 * 2 * 4 * 2 // 3
    assert received_bytes(LOOP.replace("TRIPS", "12"), 6) == 12 * once + once
    assert received_bytes(LOOP.replace("TRIPS", "1"), 6) == 2 * once


def test_nested_loops_multiply_their_trip_counts() -> None:
    outer = LOOP.replace("TRIPS", "5").replace("ENTRY %main.4_spmd", "%outer_body")
    entry = ('ENTRY %main (p: f32[1]) -> f32[1] {\n  %w = (s32[]) while(%t), condition=%c, body=%outer_body, '
             'backend_config={"known_trip_count":{"n":"3"}}\n}\n')
    once = 6 * 3 * 2 * 4 * 2 // 3
    assert received_bytes(outer + entry, 6) == 3 * (5 * once + once)


def test_a_loop_of_unknown_trip_count_is_refused() -> None:
    with pytest.raises(ValueError, match="known trip count"):
        received_bytes(LOOP.replace('backend_config={"known_trip_count":{"n":"TRIPS"}}', ""), 6)
