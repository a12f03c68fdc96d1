"""The annotation ray cast (render/raster.py) against geometry whose answer is known in closed form."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from synthact.render.annotate import back_project, pixel_grid
from synthact.render.camera import BLENDER_TO_OPENCV, intrinsics
from synthact.render.raster import DENSE_PIXELS, NEAR_M, annotation_hits, first_hits

W, H = 64, 48


def _camera(height: float = 1.6, pitch_deg: float = -15.0) -> np.ndarray:
    """OpenCV world_to_camera of a camera at (0, 0, height) looking along +Y, pitched down."""
    p = np.radians(pitch_deg)
    forward = np.array([0.0, np.cos(p), np.sin(p)])
    right = np.array([1.0, 0.0, 0.0])
    up = np.cross(right, forward)
    cam_to_world = np.eye(4)
    cam_to_world[:3, :3] = np.stack([right, up, -forward], axis=1)  # Blender camera: -Z forward, +Y up
    cam_to_world[:3, 3] = [0.0, 0.0, height]
    w2c = np.linalg.inv(cam_to_world)
    w2c[:3, :] = BLENDER_TO_OPENCV @ w2c[:3, :]
    return w2c


def _ground(size: float = 400.0):
    h = size / 2
    vertices = np.array([[-h, -h, 0], [h, -h, 0], [h, h, 0], [-h, h, 0]], float)
    return vertices, np.array([[0, 1, 2], [0, 2, 3]])


def _plane_depth(K, w2c):
    """Depth along the optical axis of the ground plane z = 0 at each pixel centre (+inf above the horizon)."""
    rays = np.concatenate([pixel_grid(H, W), np.ones((H, W, 1))], -1) @ np.linalg.inv(K).T  # camera frame, z = 1
    R, t = w2c[:3, :3], w2c[:3, 3]
    origin, dirs = -R.T @ t, rays @ R
    s = -origin[2] / dirs[..., 2]
    return np.where(s > 0, s, np.inf)


def test_the_ground_behind_and_in_front_of_the_camera_matches_the_plane():
    """The ground straddles the near plane (it runs under and behind the camera): its depth at every pixel
    centre is the ray-plane intersection, and the sky above the horizon is nothing."""
    K, w2c = intrinsics(35.0, 36.0, W, H), _camera(pitch_deg=-5.0)
    vertices, faces = _ground()
    hits = first_hits(vertices, faces, K, w2c, W, H)
    truth = _plane_depth(K, w2c)
    assert np.isinf(truth).any() and np.isfinite(truth).any()  # the horizon is in the picture
    assert np.array_equal(np.isfinite(hits.depth), np.isfinite(truth))
    ground = np.isfinite(truth)
    assert np.allclose(hits.depth[ground], truth[ground], rtol=1e-9)
    assert set(np.unique(hits.triangle[ground])) <= {0, 1} and (hits.triangle[~ground] == -1).all()
    # the barycentric point is the hit point
    point = np.einsum("hwc,hwcd->hwd", hits.bary, vertices[faces[np.maximum(hits.triangle, 0)]])
    assert np.allclose(point[ground], back_project(hits.depth, K, w2c)[ground], atol=1e-6)


def test_a_nearer_small_triangle_hides_the_ground_exactly_where_it_covers_pixel_centres():
    K, w2c = intrinsics(35.0, 36.0, W, H), _camera()
    ground_v, ground_f = _ground()
    # a small upright triangle 4 m ahead of the camera, facing it
    tri = np.array([[-0.3, 4.0, 0.9], [0.3, 4.0, 0.9], [0.0, 4.0, 1.5]])
    vertices = np.concatenate([ground_v, tri])
    faces = np.concatenate([ground_f, [[4, 5, 6]]])
    hits = first_hits(vertices, faces, K, w2c, W, H)
    # which pixel centres lie inside its projection (2-D edge functions)
    cam = tri @ w2c[:3, :3].T + w2c[:3, 3]
    uv = cam[:, :2] / cam[:, 2:] * [K[0, 0], K[1, 1]] + [K[0, 2], K[1, 2]]
    p = pixel_grid(H, W)
    edges = [np.cross(uv[(i + 1) % 3] - uv[i], p - uv[i]) for i in range(3)]
    inside = (np.stack(edges) >= 0).all(0) | (np.stack(edges) <= 0).all(0)
    assert inside.sum() > 10
    assert np.array_equal(hits.triangle == 2, inside)
    # on it: depth is the camera-frame z of the point its barycentric coordinates name
    point = np.einsum("nc,ncd->nd", hits.bary[inside], tri[None].repeat(inside.sum(), 0))
    z = (point @ w2c[:3, :3].T + w2c[:3, 3])[:, 2]
    assert np.allclose(hits.depth[inside], z) and np.allclose(hits.bary[inside].sum(-1), 1)
    # the same triangle behind the camera, or nearer than the clip distance, is not seen
    for shift in (-8.0, -4.0 + NEAR_M / 2):
        moved = first_hits(vertices + [0, shift, 0] * (np.arange(len(vertices)) >= 4)[:, None], faces, K, w2c, W, H)
        assert not (moved.triangle == 2).any()


def test_large_and_small_triangles_take_different_paths_to_the_same_answer():
    """A triangle tested as a dense image (its screen box holds more than DENSE_PIXELS centres) and the same
    one split into small pieces give the same depth."""
    K, w2c = intrinsics(20.0, 36.0, 128, 128), _camera(height=1.0, pitch_deg=-10)
    wall = np.array([[-3.0, 3.0, 0.0], [3.0, 3.0, 0.0], [0.0, 3.0, 2.5]])
    whole = first_hits(wall, np.array([[0, 1, 2]]), K, w2c, 128, 128)
    assert (whole.triangle == 0).sum() > DENSE_PIXELS
    # 4**4 = 256 pieces by repeated midpoint subdivision
    pieces = wall[None]
    for _ in range(4):
        a, b, c = pieces[:, 0], pieces[:, 1], pieces[:, 2]
        ab, bc, ca = (a + b) / 2, (b + c) / 2, (c + a) / 2
        pieces = np.concatenate([np.stack(t, 1) for t in ((a, ab, ca), (ab, b, bc), (ca, bc, c), (ab, bc, ca))])
    split = first_hits(pieces.reshape(-1, 3), np.arange(3 * len(pieces)).reshape(-1, 3), K, w2c, 128, 128)
    seen = whole.triangle == 0
    assert np.array_equal(split.triangle >= 0, seen)
    assert np.allclose(split.depth[seen], whole.depth[seen], rtol=1e-9)


def test_annotation_hits_name_the_actor_and_its_own_face_numbers():
    """Instance k + 1 for actor k, faces numbered within each actor's combined mesh, per frame."""
    K, w2c = intrinsics(35.0, 36.0, W, H), _camera()
    tri = np.array([[-0.3, 4.0, 0.9], [0.3, 4.0, 0.9], [0.0, 4.0, 1.5]])
    two = np.concatenate([tri, tri + [0.0, 0.0, 0.0]])  # a second face on the same spot, behind by 1 m
    two[3:, 1] += 1.0
    first = SimpleNamespace(vertices=np.stack([tri + [-0.5, 0, 0], tri + [-0.4, 0, 0]]), faces=np.array([[0, 1, 2]]))
    second = SimpleNamespace(vertices=np.stack([two + [0.5, 0, 0]] * 2), faces=np.array([[0, 1, 2], [3, 4, 5]]))
    w2cs = np.stack([w2c, w2c])
    hits = annotation_hits(_ground(), [first, second], K, w2cs, W, H)
    assert hits.depth.shape == (2, H, W) and hits.bary.shape == (2, H, W, 3)
    assert set(np.unique(hits.instance)) == {0, 1, 2}
    assert (hits.face[hits.instance == 1] == 0).all()
    front = first_hits(two[:3] + [0.5, 0, 0], np.array([[0, 1, 2]]), K, w2c, W, H).triangle[None] == 0
    assert front.any() and (hits.instance[front.repeat(2, 0)] == 2).all()
    assert (hits.face[front.repeat(2, 0)] == 0).all()  # where its nearer face covers the one behind, it wins
    assert (hits.face[(hits.instance == 2) & ~front] == 1).any()  # the face behind shows where it sticks out
    assert (hits.face[hits.instance == 0] == -1).all()
    moved = np.mean(np.argwhere(hits.instance[1] == 1), 0) - np.mean(np.argwhere(hits.instance[0] == 1), 0)
    assert moved[1] > 0.5  # actor 0 moved right between the frames; the ray cast follows its vertices


def test_chunked_candidates_give_the_same_hits(monkeypatch):
    """Small triangles are tested in chunks (bounded memory at any resolution); the chunking changes nothing."""
    import synthact.render.raster as raster
    K, w2c = intrinsics(35.0, 36.0, W, H), _camera()
    rng = np.random.default_rng(3)
    centres = rng.uniform([-1.5, 3.0, 0.2], [1.5, 6.0, 2.0], (300, 1, 3))
    tris = (centres + rng.normal(scale=0.15, size=(300, 3, 3))).reshape(-1, 3)
    ground_v, ground_f = _ground()
    vertices = np.concatenate([ground_v, tris])
    faces = np.concatenate([ground_f, 4 + np.arange(900).reshape(-1, 3)])
    whole = first_hits(vertices, faces, K, w2c, W, H)
    monkeypatch.setattr(raster, "CHUNK", 50)
    chunked = first_hits(vertices, faces, K, w2c, W, H)
    assert (whole.triangle > 1).sum() > 300
    assert np.array_equal(whole.triangle, chunked.triangle) and np.array_equal(whole.depth, chunked.depth)
    assert np.array_equal(whole.bary, chunked.bary)


def test_a_large_static_scene_cast_with_embree_matches_the_numpy_path(monkeypatch):
    """A room's static triangles go through Embree (a BVH built once per clip); the numpy path gives the same
    hits (depth to float32 precision) and actors still occlude it by their own faces."""
    import synthact.render.raster as raster
    K, w2c = intrinsics(35.0, 36.0, W, H), _camera()
    rng = np.random.default_rng(5)
    centres = rng.uniform([-2.0, 2.5, 0.0], [2.0, 8.0, 2.5], (3000, 1, 3))
    clutter = (centres + rng.normal(scale=0.08, size=(3000, 3, 3))).reshape(-1, 3)
    ground_v, ground_f = _ground()
    static = (np.concatenate([ground_v, clutter]), np.concatenate([ground_f, 4 + np.arange(9000).reshape(-1, 3)]))
    tri = np.array([[-0.4, 3.0, 0.5], [0.4, 3.0, 0.5], [0.0, 3.0, 1.6]])
    actor = SimpleNamespace(vertices=np.stack([tri, tri + [0.2, 0, 0]]), faces=np.array([[0, 1, 2]]))
    w2cs = np.stack([w2c, w2c])
    monkeypatch.setattr(raster, "STATIC_BVH_TRIANGLES", 10**9)
    numpy_path = annotation_hits(static, [actor], K, w2cs, W, H)
    monkeypatch.setattr(raster, "STATIC_BVH_TRIANGLES", 100)
    embree = annotation_hits(static, [actor], K, w2cs, W, H)
    assert np.array_equal(np.isfinite(embree.depth), np.isfinite(numpy_path.depth))
    seen = np.isfinite(numpy_path.depth)
    assert np.allclose(embree.depth[seen], numpy_path.depth[seen], rtol=2e-5)
    assert (embree.instance == numpy_path.instance).mean() > 0.999  # a grazing edge pixel may differ
    assert (embree.instance == 1).sum() > 50 and np.array_equal(embree.face >= 0, embree.instance == 1)


def test_each_actor_is_counted_unoccluded_and_static_triangles_are_named():
    """unoccluded counts what an actor would cover with nothing static in front; static_face names the static
    triangle each pixel sees, so a wall in front of half an actor halves its visible share."""
    K, w2c = intrinsics(35.0, 36.0, W, H), _camera()
    tri = np.array([[-0.6, 4.0, 0.3], [0.6, 4.0, 0.3], [0.0, 4.0, 1.9]])
    actor = SimpleNamespace(vertices=np.stack([tri]), faces=np.array([[0, 1, 2]]))
    ground_v, ground_f = _ground()
    wall = np.array([[0.0, 3.0, 0.0], [3.0, 3.0, 0.0], [3.0, 3.0, 3.0], [0.0, 3.0, 3.0]])  # hides x > 0
    static = (np.concatenate([ground_v, wall]), np.concatenate([ground_f, [[4, 5, 6], [4, 6, 7]]]))
    alone = annotation_hits(_ground(), [actor], K, w2c[None], W, H)
    hidden = annotation_hits(static, [actor], K, w2c[None], W, H)
    assert alone.unoccluded[0, 0] == (alone.instance == 1).sum() > 100
    assert hidden.unoccluded[0, 0] == alone.unoccluded[0, 0]
    share = (hidden.instance == 1).sum() / hidden.unoccluded[0, 0]
    assert 0.35 < share < 0.65
    seen = hidden.static_face[0]
    assert set(np.unique(seen[seen >= 0])) <= {0, 1, 2, 3} and ((seen == 2) | (seen == 3)).any()
    assert (seen[hidden.instance[0] > 0] == -1).all()
