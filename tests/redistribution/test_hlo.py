"""Traffic read off HLO text, in XLA's three spellings of replica groups."""

from __future__ import annotations

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
