"""Real Blender renders of tiny scenes, checked against geometry computed independently."""
import json
import threading

import numpy as np
import pytest

from synthact.clip import ClipReader, is_complete, sha256_file
from synthact.config.batch import BatchConfig
from synthact.human.bodies import PART_NAMES
from synthact.render import SceneError
from synthact.render.camera import project
from synthact.render.worker import RenderWorker
from synthact.scene.sampler import SceneSampler

FILES = ["rgb.mp4", "depth.npz", "flow_forward.npz", "flow_backward.npz", "segmentation.npz", "keypoints.npz",
         "camera.json", "spec.json", "stats.json", "manifest.json"]


def make_spec(registry, index=0, **sections):
    base = {"batch": {"name": "render-test", "seed": 5},
            "camera": {"focal_length_mm": 40, "distance_m": 4.0, "height_m": 1.6, "yaw_deg": -70, "roll_deg": 0},
            "environment": {"ground": "tiles", "props_density": 0.0, "weather": {"type": "clear"},
                            "time_of_day": {"sun_elevation_deg": 45}},
            "actors": {"count": 1, "placement": {"spread_m": 0.0, "facing_deg": 30}},
            "motion": {"selection": {"policy": "explicit", "clips": ["walk_forward_fast"]}, "mirror_probability": 0,
                       "speed": 1.0},
            "render": {"resolution": {"width": 96, "height": 80}, "fps": 15, "frames": 5, "samples": 16,
                       "device": "cpu", "precision": "float32"}}  # exact arrays: checked against geometry
    for key, value in sections.items():
        base[key] = {k: v for k, v in {**base.get(key, {}), **value}.items() if v is not None}  # None: unset
    return SceneSampler.create(BatchConfig.model_validate(base), registry).sample(index)


@pytest.fixture(scope="module")
def worker(registry):
    return RenderWorker(device="cpu", registry=registry)


@pytest.fixture(scope="module")
def orbit_clip(worker, registry, tmp_path_factory):
    spec = make_spec(registry, camera={"motion": {"type": "orbit", "orbit_deg_per_s": 90}},
                     environment={"props_density": 0.6}, render={"samples": 32},
                     actors={"clothing": {"outfit": "male_casualsuit01", "hair": "short02", "hair_probability": 1.0}})
    return spec, worker.render(spec, tmp_path_factory.mktemp("orbit"))


def load(clip, name, key):
    return np.load(clip / name)[key]


def camera(clip):
    cam = json.loads((clip / "camera.json").read_text())
    return np.array(cam["K"]), np.array(cam["world_to_camera"]), cam


def test_clip_directory_is_complete_with_checksums(orbit_clip):
    _, clip = orbit_clip
    assert is_complete(clip)
    for name in FILES:
        assert (clip / name).is_file(), name
    manifest = json.loads((clip / "manifest.json").read_text())
    for name, entry in manifest["files"].items():
        assert sha256_file(clip / name) == entry["sha256"]
        assert (clip / name).stat().st_size == entry["bytes"]
    assert not list(clip.parent.glob(".tmp-*"))
    stats = json.loads((clip / "stats.json").read_text())
    assert stats["blender_version"].startswith("5.0") and stats["device"] == "cpu"
    assert set(stats["timings_s"]) >= {"render_rgb", "ray_cast", "annotate", "scene_build"}
    from synthact.dataset.qc import check_clip
    qc = check_clip(clip)  # the QC defaults hold for real renders, not only for fabricated clips
    assert qc.accepted, qc.reasons
    assert qc.metrics["visible_keypoints_fraction"] > 0.5 and qc.metrics["mean_luma"] > 0.1


def test_arrays_have_the_documented_shapes(orbit_clip):
    spec, clip = orbit_clip
    t, h, w = 5, 80, 96
    assert load(clip, "depth.npz", "depth").shape == (t, h, w)
    flow = load(clip, "flow_forward.npz", "flow")
    assert flow.shape == (t, h, w, 2) and flow.dtype == np.float32
    assert np.isnan(flow[-1]).all() and np.isnan(load(clip, "flow_backward.npz", "flow")[0]).all()
    seg = np.load(clip / "segmentation.npz")
    assert seg["instance"].shape == (t, h, w) and set(np.unique(seg["instance"])) == {0, 1}
    assert list(seg["body_part_names"]) == list(PART_NAMES)
    assert seg["body_part"].max() < len(PART_NAMES) and (seg["body_part"][seg["instance"] == 0] == 0).all()
    kp = np.load(clip / "keypoints.npz")
    assert kp["coco2d"].shape == (t, 1, 17, 3) and kp["coco3d_world"].shape == (t, 1, 17, 3)
    assert kp["joints3d_world"].shape == (t, 1, 22, 3) and len(kp["joint_names"]) == 22
    assert kp["bbox2d"].shape == (t, 1, 4)


def test_ground_depth_matches_the_ray_plane_intersection(orbit_clip):
    _, clip = orbit_clip
    K, w2c, cam = camera(clip)
    depth = load(clip, "depth.npz", "depth")
    seg = load(clip, "segmentation.npz", "instance")
    ys, xs = np.mgrid[0:cam["height"], 0:cam["width"]]
    rays = np.stack([xs, ys, np.ones_like(xs)], -1) @ np.linalg.inv(K).T  # camera frame, z = 1
    errors = []
    for t in range(len(depth)):
        r, tr = w2c[t][:3, :3], w2c[t][:3, 3]
        centre = -r.T @ tr
        world_dir = rays @ r  # R^T applied to each ray
        s = -centre[2] / world_dir[..., 2]  # distance along the ray (in units of camera z) to z = 0
        ground = (seg[t] == 0) & np.isfinite(depth[t]) & (s > 0)
        errors.append(np.abs(depth[t][ground] - s[ground]))
    errors = np.concatenate(errors)
    assert len(errors) > 1000
    assert np.median(errors) <= 0.001


def test_camera_only_motion_flow_on_the_static_ground(orbit_clip):
    _, clip = orbit_clip
    K, w2c, cam = camera(clip)
    flow = load(clip, "flow_forward.npz", "flow")
    seg = load(clip, "segmentation.npz", "instance")
    depth = load(clip, "depth.npz", "depth")
    ys, xs = np.mgrid[0:cam["height"], 0:cam["width"]]
    pix = np.stack([xs, ys, np.ones_like(xs)], -1).astype(float)
    epe = []
    for t in range(len(flow) - 1):
        r, tr = w2c[t][:3, :3], w2c[t][:3, 3]
        cam_pts = (pix @ np.linalg.inv(K).T) * depth[t][..., None]
        with np.errstate(invalid="ignore"):  # sky pixels have infinite depth
            world = (cam_pts - tr) @ r  # R^T (x - t)
        uv, _ = project(world, K, w2c[t + 1])
        predicted = uv - pix[..., :2]
        ground = (seg[t] == 0) & np.isfinite(depth[t])
        epe.append(np.linalg.norm(flow[t][ground] - predicted[ground], axis=-1))
        assert np.linalg.norm(predicted[ground], axis=-1).mean() > 1.0  # the orbiting camera really moves
    assert np.median(np.concatenate(epe)) < 0.05


@pytest.mark.parametrize("surface", ["body", "outfit", "hair"])
def test_flow_at_surface_vertices_matches_their_projection(worker, orbit_clip, surface):
    """Flow is exact for the dressed actor: at the body's, the outfit's and the hair's visible vertices."""
    from synthact.render.dressing import dress
    spec, clip = orbit_clip
    K, w2c, _ = camera(clip)
    flow = load(clip, "flow_forward.npz", "flow")
    depth = load(clip, "depth.npz", "depth")
    seg = load(clip, "segmentation.npz", "instance")
    geometry = worker.geometries(spec)[0]  # the same geometry the renderer used
    surfaces = {s.name: s for s in dress(geometry, spec.actors[0])}
    assert spec.actors[0].clothing.style == "garments" and surface in surfaces, sorted(surfaces)
    vertices = surfaces[surface].vertices
    errors = []
    for t in range(len(flow) - 1):
        uv, z = project(vertices[t], K, w2c[t])
        uv1, _ = project(vertices[t + 1], K, w2c[t + 1])
        px = np.round(uv).astype(int)
        h, w = depth[t].shape
        inside = (px[:, 0] >= 0) & (px[:, 0] < w) & (px[:, 1] >= 0) & (px[:, 1] < h)
        px, uv, uv1, z = px[inside], uv[inside], uv1[inside], z[inside]
        visible = (seg[t][px[:, 1], px[:, 0]] == 1) & (np.abs(depth[t][px[:, 1], px[:, 0]] - z) < 0.01)
        sampled = flow[t][px[visible, 1], px[visible, 0]]
        # the flow at the pixel centre, moved to the vertex's sub-pixel spot, is its displacement
        errors.append(np.linalg.norm(sampled - (uv1[visible] - uv[visible]), axis=-1))
    errors = np.concatenate(errors)
    assert len(errors) > (200 if surface != "hair" else 20)
    assert np.median(errors) <= 0.5


def test_surface_points_follow_a_triangle_between_frames():
    """The annotations' ray cast names a triangle of the actor's combined mesh and a barycentric point on it;
    the same point at another frame is that combination of the triangle's corners there."""
    from synthact.render.annotate import surface_points
    from synthact.render.dressing import Surface, combined
    rng = np.random.default_rng(0)
    parts = [Surface(name, rng.normal(size=(2, v, 3)).astype(np.float32), rng.integers(0, v, (f, 3)),
                     np.zeros((f, 3, 2), np.float32), np.zeros(f), np.zeros(f)) for name, v, f in
             (("body", 6, 4), ("outfit", 5, 3))]
    parts[1].part = np.full(3, 7)
    mesh = combined(parts)
    assert mesh.vertices.shape == (2, 11, 3) and len(mesh.faces) == 7
    assert mesh.part.tolist() == [0, 0, 0, 0, 7, 7, 7]  # what the body-part mask reads by face number
    face_id, bary = np.array([[5]]), np.array([[[0.2, 0.3, 0.5]]])  # the outfit's second triangle
    corners = parts[1].vertices[1][parts[1].faces[1]]
    assert np.allclose(surface_points(mesh.vertices[1], mesh.faces, face_id, bary)[0, 0], bary[0, 0] @ corners)


def test_back_projection_inverts_projection():
    """A static pixel's world point comes from its depth and the camera, and projects back onto the pixel
    centre at that depth."""
    from synthact.human.motions.rotations import rot_z
    from synthact.render.annotate import back_project, pixel_grid
    from synthact.render.camera import intrinsics, project
    K = intrinsics(35.0, 36.0, 40, 30)
    w2c = np.eye(4)
    w2c[:3, :3] = np.diag([1.0, -1.0, -1.0]) @ rot_z(np.array(0.4))
    w2c[:3, 3] = [0.3, -1.2, 4.0]
    depth = np.random.default_rng(1).uniform(1.0, 30.0, (30, 40))
    depth[0, :5] = np.inf  # sky
    world = back_project(depth, K, w2c)
    assert np.isnan(world[0, :5]).all() and np.isfinite(world[1:]).all()
    uv, z = project(world[1:], K, w2c)
    assert np.allclose(uv, pixel_grid(30, 40)[1:], atol=1e-9) and np.allclose(z, depth[1:])


def _blur(img):
    pad = np.pad(img, ((1, 1), (1, 1), (0, 0)), mode="edge")
    return sum(pad[dy:dy + img.shape[0], dx:dx + img.shape[1]] for dy in range(3) for dx in range(3)) / 9


def _bilinear(img, x, y):
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    return (img[y0, x0] * (1 - fx) * (1 - fy) + img[y0, x0 + 1] * fx * (1 - fy)
            + img[y0 + 1, x0] * (1 - fx) * fy + img[y0 + 1, x0 + 1] * fx * fy)


def _warp_error(rgb, fwd, bwd, sign=1.0):
    """Mean |frame t - frame t+1 warped back by sign * flow| over pixels visible in both; and unwarped."""
    warped_err, still_err = [], []
    for t in range(len(rgb) - 1):
        h, w = fwd[t].shape[:2]
        ys, xs = np.mgrid[0:h, 0:w]
        tx, ty = xs + sign * fwd[t][..., 0], ys + sign * fwd[t][..., 1]
        ok = np.isfinite(tx) & np.isfinite(ty) & (tx >= 1) & (tx < w - 2) & (ty >= 1) & (ty < h - 2)
        tx, ty = np.where(ok, tx, 1), np.where(ok, ty, 1)
        if sign > 0:  # forward-backward consistency: the point is visible in both frames
            back = bwd[t + 1][np.round(ty).astype(int), np.round(tx).astype(int)]
            ok &= np.linalg.norm(fwd[t] + back, axis=-1) < 0.5
        ok[:2], ok[-2:], ok[:, :2], ok[:, -2:] = False, False, False, False
        warped_err.append(np.abs(_bilinear(rgb[t + 1], tx, ty) - rgb[t])[ok].mean())
        still_err.append(np.abs(rgb[t + 1] - rgb[t])[ok].mean())
    return float(np.mean(warped_err)), float(np.mean(still_err))


def test_warping_the_next_frame_back_reproduces_this_frame(orbit_clip):
    _, clip = orbit_clip
    # blur: compare content, not noise
    rgb = np.stack([_blur(f) for f in ClipReader.from_dir(clip).rgb().astype(np.float32) / 255])
    fwd = load(clip, "flow_forward.npz", "flow")
    bwd = load(clip, "flow_backward.npz", "flow")
    warped, still = _warp_error(rgb, fwd, bwd)
    wrong_way, _ = _warp_error(rgb, fwd, bwd, sign=-1.0)
    assert warped < 0.02  # what is left is render noise and resampling of a 96x80 image
    assert warped < 0.75 * still
    assert warped < 0.6 * wrong_way  # a sign or axis error in the flow would not pass


def test_keypoints_project_and_visible_ones_lie_on_the_actor(orbit_clip):
    _, clip = orbit_clip
    K, w2c, _ = camera(clip)
    kp = np.load(clip / "keypoints.npz")
    seg = load(clip, "segmentation.npz", "instance")
    for t in range(len(w2c)):
        uv, z = project(kp["coco3d_world"][t, 0], K, w2c[t])
        assert np.abs(uv - kp["coco2d"][t, 0, :, :2]).max() <= 0.5
        cam = kp["coco3d_world"][t, 0] @ w2c[t][:3, :3].T + w2c[t][:3, 3]
        assert np.allclose(cam, kp["coco3d_camera"][t, 0], atol=1e-4)
        for x, y, v in kp["coco2d"][t, 0]:
            if v == 2:  # a visible keypoint has the actor within one pixel
                x, y = int(round(x)), int(round(y))
                assert (seg[t, max(y - 1, 0):y + 2, max(x - 1, 0):x + 2] == 1).any()
    vis = kp["coco2d"][..., 2]
    assert (vis == 2).mean() > 0.4 and set(np.unique(vis)) <= {0, 1, 2}


def test_a_frontal_face_has_visible_nose_eyes_and_ears(worker, registry):
    spec = make_spec(registry, index=6, camera={"yaw_deg": -90, "height_m": 1.6, "focal_length_mm": 50},
                     actors={"placement": {"spread_m": 0.0, "facing_deg": 0}},
                     motion={"selection": {"policy": "explicit", "clips": ["squat_slow"]}},
                     render={"resolution": {"width": 96, "height": 96}, "frames": 3, "samples": 1})
    coco2d = worker.render_layers(spec).layers["keypoints.npz"]["coco2d"]
    assert (coco2d[:, 0, :5, 2] == 2).all(), coco2d[:, 0, :5]  # nose, eyes, ears face the camera


def test_annotation_files_are_written_while_blender_renders_the_rgb(worker, registry, tmp_path, monkeypatch):
    from synthact.render.blender import render as blender_render
    annotated, order = threading.Event(), []
    original = blender_render.render_rgb

    def render_rgb_after_the_annotations(spec, timings):
        # the RGB render starts only once the annotations have come: a worker that made them after the render
        # (or not at all before it) would wait here in vain
        order.append("rgb started, annotations already written" if annotated.wait(120) else "rgb started alone")
        return original(spec, timings)

    def on_layers(layers):
        order.append(sorted(layers))
        annotated.set()

    monkeypatch.setattr(blender_render, "render_rgb", render_rgb_after_the_annotations)
    spec = make_spec(registry, index=2, render={"resolution": {"width": 32, "height": 32}, "frames": 2,
                                                "samples": 1})
    clip = worker.render_layers(spec, on_layers=on_layers)
    assert order == [["depth.npz", "flow_backward.npz", "flow_forward.npz", "keypoints.npz", "segmentation.npz"],
                     "rgb started, annotations already written", ["rgb.mp4"]]
    assert sorted(clip.layers) == sorted(order[0] + order[2])


def test_a_corrupt_garment_file_fails_the_scene_as_a_missing_asset(registry, tmp_path):
    import shutil

    from synthact.human.garments import GarmentLibrary
    from synthact.human.garments.library import DATA_DIR
    shutil.copytree(DATA_DIR, tmp_path / "garments")
    (tmp_path / "garments" / "outfit" / "male_worksuit01.npz").write_bytes(b"not an npz")
    worker = RenderWorker(device="cpu", registry=registry, garments=GarmentLibrary(tmp_path / "garments"))
    spec = make_spec(registry, index=7, actors={"clothing": {"outfit": "male_worksuit01"}},
                     render={"resolution": {"width": 32, "height": 32}, "frames": 2, "samples": 1})
    with pytest.raises(SceneError, match="male_worksuit01.npz: corrupt") as failed:
        worker.render(spec, tmp_path / "out")
    assert failed.value.reason == "missing_asset" and not list((tmp_path / "out").glob("*"))


def test_a_worker_leaves_no_scratch_logs_behind(registry, tmp_path):
    import gc
    worker = RenderWorker(device="cpu", registry=registry)
    scratch = worker.log_dir
    spec = make_spec(registry, index=3, render={"resolution": {"width": 32, "height": 32}, "frames": 2,
                                                 "samples": 1})
    clip = worker.render(spec, tmp_path / "out")
    assert "Blender" in (clip / "blender.log").read_text() or (clip / "blender.log").stat().st_size > 0
    assert scratch.is_dir() and not list(scratch.iterdir())  # the clip holds the log; the scratch copy is gone
    del worker
    gc.collect()
    assert not scratch.exists()


def test_same_spec_same_clip(worker, registry, tmp_path):
    spec = make_spec(registry, index=1, render={"resolution": {"width": 48, "height": 40}, "frames": 3,
                                                 "samples": 2})
    a = worker.render(spec, tmp_path / "a")
    b = worker.render(spec, tmp_path / "b")
    for name, key in (("depth.npz", "depth"), ("flow_forward.npz", "flow"), ("segmentation.npz", "instance"),
                      ("keypoints.npz", "coco2d")):
        assert np.array_equal(load(a, name, key), load(b, name, key), equal_nan=True), name
    files = [json.loads((c / "manifest.json").read_text())["files"] for c in (a, b)]
    varying = {"blender.log", "stats.json"}  # the renderer's log and the timings
    assert "rgb.mp4" in files[0]
    assert {n: f for n, f in files[0].items() if n not in varying} == \
        {n: f for n, f in files[1].items() if n not in varying}  # every data file's sha256, the video's too


def test_bad_scenes_fail_clearly_and_the_worker_carries_on(worker, registry, tmp_path):
    low = make_spec(registry, camera={"height_m": -2.0, "distance_m": 2.0},
                    render={"resolution": {"width": 32, "height": 32}, "frames": 2, "samples": 1})
    with pytest.raises(SceneError, match=f"scene {low.scene_id}: camera inside geometry"):
        worker.render(low, tmp_path)
    assert not (tmp_path / low.scene_id).exists() and not list(tmp_path.glob(".tmp-*"))
    ok = make_spec(registry, index=2, render={"resolution": {"width": 32, "height": 32}, "frames": 2, "samples": 1})
    assert is_complete(worker.render(ok, tmp_path))


def test_several_actors_one_motion(worker, registry, tmp_path):
    spec = make_spec(registry, index=3, actors={"count": 3, "motion_sharing": "same",
                                                 "placement": {"spread_m": 1.5, "min_separation_m": 1.0}},
                     render={"resolution": {"width": 64, "height": 48}, "frames": 3, "samples": 1})
    assert len({a.motion.motion_key for a in spec.actors}) == 1
    clip = worker.render(spec, tmp_path)
    seg = np.load(clip / "segmentation.npz")["instance"]
    assert set(np.unique(seg)) <= {0, 1, 2, 3} and len(set(np.unique(seg)) - {0}) >= 2
    kp = np.load(clip / "keypoints.npz")
    assert kp["coco2d"].shape == (3, 3, 17, 3) and kp["bbox2d_amodal"].shape == (3, 3, 4)
    for k in range(3):
        box = kp["bbox2d_amodal"][0, k]
        assert np.isfinite(box).all() and box[2] > box[0] and box[3] > box[1]


def test_workbench_renders_flat_rgb_over_the_same_annotations(worker, registry):
    small = {"resolution": {"width": 48, "height": 40}, "frames": 3}
    cycles = worker.render_layers(make_spec(registry, index=5, render={**small, "samples": 4}))
    flat = worker.render_layers(make_spec(registry, index=5, render={**small, "engine": "workbench", "samples": None}))
    assert flat.stats["engine"] == "WORKBENCH" and cycles.stats["engine"] == "CYCLES"
    for file, key in (("depth.npz", "depth"), ("segmentation.npz", "instance"), ("keypoints.npz", "coco2d")):
        np.testing.assert_array_equal(flat.layers[file][key], cycles.layers[file][key])
    a, b = flat.layers["rgb.mp4"].astype(int), cycles.layers["rgb.mp4"].astype(int)
    assert np.abs(a - b).mean() > 5  # another look
    actor = flat.layers["segmentation.npz"]["instance"] > 0
    assert 0 < a[actor].mean() < 250 and a[~actor].std() > 5  # the actor and the world are drawn, not blank
    # no sampling noise: frames of a static camera differ only where the actor moves
    assert np.abs(a[1] - a[0])[~(actor[0] | actor[1])].mean() < 0.5


def test_out_of_range_spec_is_named(worker, registry, tmp_path):
    import dataclasses
    spec = make_spec(registry, index=4)
    broken = dataclasses.replace(spec, render=dataclasses.replace(spec.render, frames=1))
    with pytest.raises(SceneError, match=f"scene {spec.scene_id}: render.frames must be >= 2, got 1"):
        worker.render(broken, tmp_path)


def test_background_image_pack(registry, tmp_path):
    import shutil
    import textwrap

    from PIL import Image

    from synthact.config.assets import AssetRegistry
    assets = tmp_path / "assets"
    shutil.copytree(registry.directory, assets)
    images = tmp_path / "city"
    images.mkdir()
    gradient = np.zeros((32, 48, 3), np.uint8)
    gradient[..., 0] = np.linspace(0, 255, 48)[None, :].astype(np.uint8)  # red grows to the right
    Image.fromarray(gradient).save(images / "street.png")
    (assets / "backgrounds.yaml").write_text(textwrap.dedent(f"""\
        kind: backgrounds
        packs:
          - {{name: city, version: "1", license: CC0-1.0, source: test, path: {images}}}
        """))
    reg = AssetRegistry.load(assets)
    cfg = {"batch": {"name": "bg", "seed": 1}, "environment": {"sky": "background", "backgrounds": {"pack": "city"},
                                                              "weather": {"type": "clear"}, "props_density": 0},
           "camera": {"height_m": 1.5, "pitch_offset_deg": 20},
           "render": {"resolution": {"width": 48, "height": 32}, "frames": 2, "samples": 4, "device": "cpu",
                      "precision": "float32"}}
    spec = SceneSampler.create(BatchConfig.model_validate(cfg), reg).sample(0)
    assert spec.environment.background is not None
    clip = RenderWorker(device="cpu", registry=reg).render(spec, tmp_path / "out")
    rgb = ClipReader.from_dir(clip).rgb()[0].astype(int)
    sky = ~np.isfinite(np.load(clip / "depth.npz")["depth"][0])
    assert sky.sum() > 20
    left, right = rgb[..., 0][sky & (np.arange(48) < 16)[None, :]], rgb[..., 0][sky & (np.arange(48) >= 32)[None, :]]
    assert right.mean() > left.mean() + 60  # the background image shows behind the scene


def test_outdoors_every_pixel_has_a_semantic_class_and_props_are_objects(orbit_clip):
    _, clip = orbit_clip
    seg = ClipReader.from_dir(clip).arrays("segmentation.npz")
    names = list(seg["semantic_names"])
    seen = {names[i] for i in np.unique(seg["semantic"])}
    assert {"person", "ground", "sky"} <= seen
    depth = ClipReader.from_dir(clip).depth()
    assert (seg["semantic"][~np.isfinite(depth)] == names.index("sky")).all()
    assert "ground" in list(seg["object_names"]) and len(seg["object_names"]) > 1  # the ground and the props
    props = {str(c) for n, c in zip(seg["object_names"], seg["object_classes"]) if str(n).startswith("prop_")}
    assert props and props <= {"building", "wall", "crate", "pole", "bench", "bush", "tree"}
    assert (seg["visible_fraction"] > 0).all() and (seg["visible_fraction"] <= 1).all()


def test_a_prop_library_stands_its_rocks_outdoors(registry, tmp_path, monkeypatch):
    """Props built by `synthact environments build --generator infinigen-assets` (Infinigen's test double here)
    stand among the primitive shapes; they are objects of their class in the masks and the depth."""
    import os
    import subprocess
    import sys

    from conftest import ROOT
    env = {**os.environ, "SYNTHACT_ENVIRONMENTS": str(tmp_path / "envs"),
           "PYTHONPATH": str(ROOT / "tests" / "support" / "infinigen_double")}
    build = subprocess.run([sys.executable, "-m", "synthact", "environments", "build", "nature", "--generator",
                            "infinigen-assets", "--n", "3", "--max-triangles", "1000", "--generator-python",
                            sys.executable], env=env, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout + build.stderr
    monkeypatch.setenv("SYNTHACT_ENVIRONMENTS", str(tmp_path / "envs"))
    spec = make_spec(registry, environment={"props_density": 1.0, "prop_library": "nature"},
                     camera={"focal_length_mm": 18}, render={"frames": 2, "samples": 4})
    assert spec.environment.prop_library == "nature"
    clip = ClipReader.from_dir(RenderWorker(device="cpu", registry=registry).render(spec, tmp_path / "out"))
    seg = clip.arrays("segmentation.npz")
    props = [(str(n), str(c)) for n, c in zip(seg["object_names"], seg["object_classes"]) if str(n).startswith("prop_")]
    classes = {c for _, c in props}
    assert "rock" in classes  # rocks only come from a prop library
    names = list(seg["semantic_names"])
    rocks = seg["semantic"] == names.index("rock")
    assert rocks.any() and np.isfinite(clip.depth()[rocks]).all()  # seen, and in the depth


def test_terrain_is_flat_where_actors_and_camera_are_and_rises_into_hills_beyond(worker, registry, tmp_path):
    """With terrain_height_m the ground seen beyond the flat area rises (depth and masks follow the hills: the
    ray cast sees the same ground mesh); where the actor and the camera are it stays at z = 0."""
    spec = make_spec(registry, environment={"ground": "grass", "terrain_height_m": 6.0},
                     camera={"focal_length_mm": 24, "pitch_offset_deg": 8}, render={"frames": 2, "samples": 4})
    assert spec.environment.terrain_height_m == 6.0
    clip = worker.render(spec, tmp_path)
    K, w2c, cam = camera(clip)
    depth = load(clip, "depth.npz", "depth")[0]
    seg = ClipReader.from_dir(clip).arrays("segmentation.npz")
    ground = np.asarray(seg["semantic"][0]) == list(seg["semantic_names"]).index("ground")
    ys, xs = np.mgrid[0:cam["height"], 0:cam["width"]]
    rays = np.stack([xs, ys, np.ones_like(xs)], -1) @ np.linalg.inv(K).T
    r, t = w2c[0][:3, :3], w2c[0][:3, 3]
    valid = ground & np.isfinite(depth)
    seen = (rays[valid] * depth[valid][:, None]) @ r + (-r.T @ t)  # camera z-depth back to the world
    near = np.linalg.norm(seen[:, :2], axis=1) < 6.0
    assert near.sum() > 100 and np.abs(seen[near, 2]).max() < 0.01  # flat under the actor and the camera
    assert seen[:, 2].max() > 1.0  # hills further out


def test_the_photo_ground_shows_the_hdris_own_ground(registry, monkeypatch):
    """The photo ground is a shadow catcher: where nothing casts a shadow on it, its pixels are the HDRI's own
    (what the camera sees with no ground at all), not a ground material's; it is still ground in the masks."""
    from synthact.render.blender import environment
    env = {"ground": "photo", "sky": "hdri", "hdri": {"pack": "blender_outdoor"}, "hdri_exposure_ev": 0.0,
           "time_of_day": None}
    spec = make_spec(registry, environment=env, camera={"pitch_offset_deg": -10},
                     render={"frames": 2, "samples": 8})
    assert spec.environment.ground == "photo" and spec.environment.terrain_height_m == 0.0
    worker = RenderWorker(device="cpu", registry=registry)

    def rgb_and_ground(spec):
        clip = worker.render_layers(spec)
        rgb = np.asarray(clip.layers[next(k for k in clip.layers if k.startswith("rgb"))], float)
        seg = clip.layers["segmentation.npz"]
        return rgb, seg["semantic"] == list(seg["semantic_names"]).index("ground"), seg["instance"] > 0

    photo, ground, actor = rgb_and_ground(spec)
    far = ground.copy()  # ground pixels well away from the actor (and its shadow)
    for t in range(len(actor)):
        ys, xs = np.nonzero(actor[t])
        far[t, max(ys.min() - 20, 0):, max(xs.min() - 20, 0):xs.max() + 20] = False
    assert far.sum() > 500
    built = environment.ground

    def hidden_ground(*args, **kwargs):
        obj = built(*args, **kwargs)
        obj.hide_render = True
        return obj

    monkeypatch.setattr(environment, "ground", hidden_ground)
    no_ground, _, _ = rgb_and_ground(spec)
    monkeypatch.setattr(environment, "ground", built)
    from dataclasses import replace
    concrete, _, _ = rgb_and_ground(replace(spec, environment=replace(spec.environment, ground="concrete")))
    assert np.abs(photo - no_ground)[far].mean() < 4.0  # the photograph shows through
    assert np.abs(concrete - no_ground)[far].mean() > 4 * np.abs(photo - no_ground)[far].mean()
