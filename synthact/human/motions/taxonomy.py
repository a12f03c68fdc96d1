"""The procedural action library's class list: named actions and the variant that makes each distinct.

A class is a family (the generator that animates it) plus the variant parameters that make it a
different action to a viewer: side (left/right hand or foot), direction, tempo, amplitude,
repetitions, or a composition of two actions. Mirroring swaps `left` and `right` in the name.
"""
from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ActionClass:
    name: str
    family: str
    variant: dict = field(default_factory=dict, hash=False, compare=False)


def _product(family: str, **axes: list) -> list[ActionClass]:
    keys = list(axes)
    out = []
    for values in itertools.product(*(axes[k] for k in keys)):
        name = "_".join([family, *[str(v) for v in values]])
        out.append(ActionClass(name, family, dict(zip(keys, values))))
    return out


def _one(name: str, family: str | None = None, **variant) -> ActionClass:
    return ActionClass(name, family or name, variant)


@functools.cache
def procedural_classes() -> tuple[ActionClass, ...]:
    classes: list[ActionClass] = []
    # locomotion
    classes += _product("walk", direction=["forward", "backward", "left", "right", "circle_left", "circle_right"],
                        tempo=["slow", "fast"])
    classes += _product("run", direction=["forward", "circle_left", "circle_right"])
    classes += [_one("jog_in_place"), _one("march_in_place"), _one("high_knees"), _one("skip_forward"),
                _one("tiptoe_forward"), _one("crouch_walk_forward")]
    classes += _product("gallop", side=["left", "right"])
    classes += _product("hop", foot=["left", "right", "both"], direction=["in_place", "forward"])
    classes += _product("jump", style=["vertical", "forward", "backward", "left", "right", "tuck",
                                       "spin_left", "spin_right"])
    classes += _product("jumping_jacks", tempo=["slow", "fast"])
    classes += _product("turn", side=["left", "right"], angle=["90", "180", "360"])
    # arms and hands
    classes += _product("wave", side=["left", "right", "both"], height=["high", "low"])
    classes += _product("clap", style=["slow", "fast", "overhead"])
    classes += _product("punch", side=["left", "right"], style=["straight", "hook", "uppercut"])
    classes += [_one("punch_combo")]
    classes += _product("reach", side=["left", "right", "both"], direction=["up", "forward", "side"])
    classes += _product("point", side=["left", "right"], direction=["forward", "up", "side"])
    classes += _product("throw", side=["left", "right"], style=["overhand", "underhand"])
    classes += _product("pick_up", side=["left", "right", "both"])
    classes += _product("push", side=["left", "right", "both"])
    classes += _product("pull", side=["left", "right", "both"])
    classes += _product("arm_circles", direction=["forward", "backward"])
    classes += _product("salute", side=["left", "right"])
    classes += _product("scratch_head", side=["left", "right"])
    classes += _product("phone_call", side=["left", "right"])
    classes += _product("drink", side=["left", "right"])
    classes += _product("check_watch", side=["left", "right"])
    classes += [_one("shrug"), _one("cross_arms"), _one("hands_on_hips"), _one("facepalm"), _one("cheer")]
    # legs
    classes += _product("kick", side=["left", "right"], style=["front", "side", "back"])
    classes += _product("knee_strike", side=["left", "right"])
    classes += _product("lunge", side=["left", "right"], direction=["forward", "side"])
    classes += _product("squat", tempo=["slow", "fast"])
    classes += [_one("squat_hold"), _one("calf_raise")]
    classes += _product("toe_tap", side=["left", "right"])
    classes += _product("leg_swing", side=["left", "right"])
    # whole body
    classes += [_one("sit_down"), _one("stand_up"), _one("crouch_down"), _one("get_up_from_crouch")]
    classes += _product("kneel_down", side=["left", "right"])
    classes += _product("bow", depth=["slight", "deep"])
    classes += [_one("nod_yes"), _one("shake_head_no")]
    classes += _product("look_around", side=["left", "right"])
    classes += _product("stretch", style=["arms_up", "side_left", "side_right", "toe_touch"])
    classes += _product("arm_stretch", side=["left", "right"])
    classes += _product("torso_twist", tempo=["slow", "fast"])
    classes += _product("dodge", side=["left", "right"])
    classes += [_one("duck")]
    # sports
    classes += _product("tennis_forehand", side=["left", "right"])
    classes += _product("baseball_swing", side=["left", "right"])
    classes += _product("golf_swing", side=["left", "right"])
    classes += _product("bowling", side=["left", "right"])
    classes += _product("basketball_shot", tempo=["standing", "jumping"])
    classes += [_one("boxing_shuffle")]
    # dance
    classes += _product("dance", style=["step_touch", "twist", "sway", "arm_wave", "shuffle", "bounce"])
    classes += _product("disco_point", side=["left", "right"])
    # compositions: the first action, then the second
    classes += _product("walk_and_wave", side=["left", "right"])
    classes += [_one("walk_and_clap"), _one("jump_and_clap"), _one("squat_and_reach_up"),
                _one("walk_then_turn_around"), _one("sit_down_then_stand_up"), _one("step_forward_and_bow"),
                _one("run_then_jump")]
    classes += _product("punch_then_kick", side=["left", "right"])
    classes += _product("turn_then_wave", side=["left", "right"])
    names = [c.name for c in classes]
    assert len(names) == len(set(names)), "duplicate class names"
    return tuple(classes)


def mirror_name(name: str) -> str:
    """The class a mirrored clip belongs to: left and right swap wherever they appear."""
    parts = name.split("_")
    swap = {"left": "right", "right": "left"}
    return "_".join(swap.get(p, p) for p in parts)


def class_names(library: str = "procedural") -> list[str]:
    if library != "procedural":
        raise KeyError(library)
    return [c.name for c in procedural_classes()]
