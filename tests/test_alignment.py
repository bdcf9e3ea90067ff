"""The numpy port of dlib.get_face_chip against dlib-bin itself, on real faces and real photos."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import dlib
import numpy as np
import pytest
from PIL import Image

from data_paths import GROUP, LFW_IMAGES
from facereid_engine import paths
from facereid_engine.alignment.chips import (
    TEMPLATE_5, chip_transform, extract_chip, face_chip, face_chips, pyramid_down2,
)
from facereid_engine.landmarks.predictor import MODEL_FILE

LFW_SAMPLE = sorted(LFW_IMAGES.glob("*/*.jpg"))[::450]
GROUP_SAMPLE = ["deepface_couple.jpg", "face_recognition_obama_and_biden.jpg",
                "face_recognition_alex_lacamoire1.jpg", "facenet-pytorch_multiface_friends_cast.jpg"]


def _rgb(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _shape(points) -> dlib.full_object_detection:
    return dlib.full_object_detection(dlib.rectangle(0, 0, 1, 1), [dlib.point(int(x), int(y)) for x, y in points])


def _points(shape) -> np.ndarray:
    return np.array([[shape.part(i).x, shape.part(i).y] for i in range(5)], dtype=np.float64)


@pytest.fixture(scope="module")
def faces() -> list[tuple[np.ndarray, list[dlib.full_object_detection]]]:
    """Real photos with dlib's own landmarks (HOG boxes, dlib's 5-point predictor)."""
    hog = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(paths.dlib_model_path(MODEL_FILE)))
    out = []
    for path in LFW_SAMPLE + [GROUP / "photos" / name for name in GROUP_SAMPLE]:
        image = _rgb(path)
        boxes = list(hog(image, 0)) or [dlib.rectangle(68, 68, 180, 180)]
        out.append((image, [predictor(image, box) for box in boxes]))
    return out


@pytest.mark.parametrize("size", [150, 224])
def test_chips_match_dlib_pixel_for_pixel(faces, size):
    n = 0
    for image, shapes in faces:
        for shape in shapes:
            want = dlib.get_face_chip(image, shape, size=size, padding=0.25)
            got = face_chip(image, _points(shape), size=size, padding=0.25)
            assert got.shape == (size, size, 3) and got.dtype == np.uint8
            np.testing.assert_array_equal(got, want)
            n += 1
    assert n >= 40


def test_chip_details_match_dlib_bit_for_bit(faces):
    for image, shapes in faces[:12]:
        for shape in shapes:
            for size, padding in ((150, 0.25), (224, 0.25), (151, 0.1)):
                ref = dlib.get_face_chip_details(shape, size, float(np.float32(padding)))
                ours = chip_transform(_points(shape), size, padding)
                assert ours.rect == (ref.rect.left(), ref.rect.top(), ref.rect.right(), ref.rect.bottom())
                assert ours.angle == ref.angle and ours.rows == ref.rows == size and ours.cols == ref.cols


def test_large_face_in_a_big_photo_uses_the_pyramid(faces):
    """Faces about 1000 px wide in a 13-megapixel photo: dlib halves its crop three times."""
    image, shapes = faces[len(LFW_SAMPLE)]  # deepface_couple.jpg, 2280 x 1588
    assert image.shape == (1588, 2280, 3) and len(shapes) == 2
    big = np.asarray(Image.fromarray(image).resize((image.shape[1] * 9 // 4, image.shape[0] * 9 // 4),
                                                   Image.BILINEAR))
    assert big.shape[0] * big.shape[1] > 12_000_000
    predictor = dlib.shape_predictor(str(paths.dlib_model_path(MODEL_FILE)))
    for small in shapes:
        box = small.rect
        scaled = dlib.rectangle(*(int(v * 9 // 4) for v in (box.left(), box.top(), box.right(), box.bottom())))
        shape = predictor(big, scaled)
        details = chip_transform(_points(shape), 150)
        assert details.rect[2] - details.rect[0] + 1 > 8 * 150  # pyramid level 2 or deeper
        for size in (150, 224):
            np.testing.assert_array_equal(face_chip(big, _points(shape), size),
                                          dlib.get_face_chip(big, shape, size=size, padding=0.25))


def test_odd_geometry_matches_dlib():
    """Rotated, tiny, huge and partly-outside faces; odd sizes and paddings; a grey image."""
    rng = np.random.default_rng(3)
    photo = _rgb(GROUP / "photos" / "face_recognition_kit_with_rose.jpg")
    for i in range(60):
        image = np.ascontiguousarray(photo[:, :, 1]) if i % 6 == 0 else photo
        h, w = image.shape[:2]
        scale, angle = rng.uniform(5, 1.5 * max(h, w)), rng.uniform(-np.pi, np.pi)
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        centre = rng.uniform([-0.2 * w, -0.2 * h], [1.2 * w, 1.2 * h])
        points = (np.array(TEMPLATE_5) - 0.5) @ rot.T * scale + centre + rng.normal(0, 0.02 * scale, (5, 2))
        points = np.round(points)
        size = int(rng.choice([1, 2, 37, 150, 224, 301]))
        padding = float(rng.choice([0.0, 0.1, 0.25, 0.4]))
        want = dlib.get_face_chip(image, _shape(points), size=size, padding=padding)
        np.testing.assert_array_equal(face_chip(image, points, size, padding), want, err_msg=f"case {i}")


def test_faces_far_larger_than_a_tiny_image_match_dlib():
    """Pyramid levels of a few pixels (or none at all) leave the chip black, as dlib does."""
    photo = _rgb(LFW_SAMPLE[2])
    for side in (3, 9, 12, 20, 40):
        image = np.ascontiguousarray(photo[100:100 + side, 90:90 + side])
        for scale in (side * 2.0, side * 9.0, 400.0):
            points = np.round((np.array(TEMPLATE_5) - 0.5) * scale + side / 2)
            for size in (5, 150):
                want = dlib.get_face_chip(image, _shape(points), size=size, padding=0.25)
                np.testing.assert_array_equal(face_chip(image, points, size), want, err_msg=f"{side} {scale} {size}")


def test_pyramid_down_matches_dlib():
    image = _rgb(LFW_SAMPLE[5])
    pyr = dlib.pyramid_down(2)
    for crop in (image, image[3:220, 5:241], image[:11, :9]):
        crop = np.ascontiguousarray(crop)
        np.testing.assert_array_equal(pyramid_down2(crop), pyr(crop))
        grey = np.ascontiguousarray(crop[:, :, 0])
        np.testing.assert_array_equal(pyramid_down2(grey[:, :, None])[:, :, 0], pyr(grey))
    assert pyramid_down2(image[:8, :100]).shape == (0, 0, 3)


def test_face_chips_are_face_chip_per_face(faces):
    image, shapes = max(faces, key=lambda f: len(f[1]))
    assert len(shapes) >= 3
    points = [_points(s) for s in shapes]
    chips = face_chips(image, points, size=150)
    assert chips.shape == (len(points), 150, 150, 3) and chips.dtype == np.uint8
    for chip, p in zip(chips, points):
        np.testing.assert_array_equal(chip, face_chip(image, p))
    assert face_chips(image, [], size=224).shape == (0, 224, 224, 3)


def test_strided_views_give_the_chips_of_their_copies(faces):
    """A crop or a mirrored view (not contiguous) is sampled like its contiguous copy, with and without the pyramid."""
    image, shapes = faces[len(LFW_SAMPLE)]  # deepface_couple.jpg: large faces, the pyramid is used at 150 px
    points = _points(shapes[0])
    for view, offset in ((image[7:, 5:], (5, 7)), (image[::-1], None)):
        assert not view.flags.c_contiguous
        moved = points - offset if offset else np.column_stack([points[:, 0], image.shape[0] - 1 - points[:, 1]])
        copy = np.ascontiguousarray(view)
        for size in (40, 150):
            want = dlib.get_face_chip(copy, _shape(moved), size=size, padding=0.25)
            np.testing.assert_array_equal(face_chip(view, moved, size), want)


def test_chips_cut_in_parallel_threads_are_unchanged(faces):
    """Scratch buffers are per thread: two threads cutting chips of other sizes do not disturb each other."""
    work = [(image, _points(shape), size) for image, shapes in faces[:8] for shape in shapes for size in (150, 224)]
    want = [face_chip(image, points, size) for image, points, size in work]
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [pool.submit(lambda w=w: [face_chip(im, p, s) for im, p, s in w]) for w in (work, work[::-1])]
        got_forward, got_backward = (run.result() for run in runs)
    for a, b, c in zip(want, got_forward, got_backward[::-1]):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_unrotated_unscaled_chip_is_a_plain_copy():
    image = _rgb(LFW_SAMPLE[0])
    details = chip_transform(np.array(TEMPLATE_5) * 100 + 20, 100)
    plain = replace(details, rect=(-5.0, 10.0, 94.0, 109.0), angle=0.0)
    chip = extract_chip(image, plain)
    want = dlib.extract_image_chip(image, dlib.chip_details(dlib.drectangle(-5, 10, 94, 109), dlib.chip_dims(100, 100)))
    np.testing.assert_array_equal(chip, want)
    assert chip[:, :5].max() == 0 and np.array_equal(chip[:, 5:], image[10:110, 0:95])


def test_bad_input_is_refused():
    image = _rgb(LFW_SAMPLE[0])
    with pytest.raises(ValueError):
        face_chip(image, np.zeros((4, 2)))
    with pytest.raises(ValueError):
        face_chip(image.astype(np.float32), np.array(TEMPLATE_5) * 100)
    with pytest.raises(ValueError):
        face_chip(image, np.array(TEMPLATE_5) * 100, size=0)
