"""The study's five ImageNet encoders, run with seeded random weights (torchvision's ImageNet files are
not available offline) on real LFW face crops, and the search for / loading of real weight files."""
from __future__ import annotations

import hashlib
import http.server
import re
import socket
import threading
import time

import numpy as np
import pytest
import torch
import torchvision.models as tvm
from torch import nn
from torchvision.models.resnet import Bottleneck, ResNet

from facereid_engine.encoders import card
from facereid_engine.encoders.base import Encoder
from facereid_engine.encoders.imagenet import (
    IMAGENET_ENCODERS,
    download_weights,
    fold_batchnorm,
    hub_checkpoints_dir,
    load_imagenet_encoder,
    weights_filename,
    weights_url,
)
from facereid_engine.errors import ModelFileError, ModelUnavailableError, UnknownNameError
from facereid_engine.images import load_image

from data_paths import lfw_image

DIMS = {"densenet": 1024 * 7 * 7, "googlenet": 1024, "resnet": 2048, "squeezenet": 512 * 13 * 13, "vgg": 512 * 7 * 7}
FILES = {"densenet": "densenet121-a639ec97.pth", "googlenet": "googlenet-1378be20.pth",
         "resnet": "resnet50-0676ba61.pth", "squeezenet": "squeezenet1_0-b66bff10.pth", "vgg": "vgg16-397923af.pth"}
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


@pytest.fixture(scope="module")
def chips() -> np.ndarray:
    """Three real faces: the central 224x224 of deep-funneled (roughly aligned) LFW photos."""
    people = [("Aaron_Eckhart", 1), ("Tony_Blair", 1), ("Serena_Williams", 1)]
    return np.stack([load_image(lfw_image(n, i))[13:237, 13:237] for n, i in people])


@pytest.fixture(scope="module")
def random_encoders():
    """Random-weight encoders, built once per name for the whole module."""
    built: dict[str, Encoder] = {}

    def get(name: str) -> Encoder:
        if name not in built:
            built[name] = load_imagenet_encoder(name, weights="random")
        return built[name]
    return get


def imagenet_input(chips: np.ndarray) -> torch.Tensor:
    """torchvision's documented preprocessing, written out independently: [0, 1], then mean/std."""
    x = torch.from_numpy(chips).permute(0, 3, 1, 2).float() / 255.0
    return (x - MEAN) / STD


def assert_close(a: np.ndarray, b: np.ndarray, rel: float = 1e-4) -> None:
    scale = max(float(np.abs(b).max()), 1e-30)
    assert np.abs(a - b).max() <= rel * scale, (np.abs(a - b).max(), scale)


def test_names_files_and_urls():
    assert IMAGENET_ENCODERS == ("densenet", "googlenet", "resnet", "squeezenet", "vgg")
    for name, filename in FILES.items():
        assert weights_filename(name) == filename  # the classic V1 weights
        assert weights_url(name) == f"https://download.pytorch.org/models/{filename}"
    with pytest.raises(UnknownNameError, match="alexnet"):
        load_imagenet_encoder("alexnet", weights="random")
    with pytest.raises(ValueError, match="'imagenet' or 'random'"):
        load_imagenet_encoder("squeezenet", weights="faces")


BATCHNORMS_LEFT = {"densenet": 121 - 59, "googlenet": 0, "resnet": 0, "squeezenet": 0, "vgg": 0}


def batchnorms(module: nn.Module) -> int:
    return sum(isinstance(m, nn.BatchNorm2d) for m in module.modules())


@pytest.mark.parametrize("name", ["squeezenet", "resnet"])
def test_random_encoder_in_full(name, chips, random_encoders):
    enc = random_encoders(name)
    assert isinstance(enc, Encoder) and enc.name == name and enc.dim == DIMS[name]
    assert (enc.chip_size, enc.chip_padding) == (224, 0.25)
    assert enc.random_weights is True and enc.weights_file is None
    assert "RANDOMLY INITIALISED" in enc.description and "BSD-3" in enc.licence
    assert card(name).threshold("cosine")[1] is True  # provisional until calibrated
    assert batchnorms(enc.model) == BATCHNORMS_LEFT[name]
    v = enc.embed(chips)
    assert v.shape == (3, DIMS[name]) and v.dtype == np.float32 and np.isfinite(v).all()
    singles = np.concatenate([enc.embed(chips[i:i + 1]) for i in range(3)])
    assert np.abs(singles - v).max() <= 1e-4 * max(1.0, float(np.abs(v).max()))  # batch-consistent
    assert np.abs(v[0] - v[1]).max() > 1e-3 * float(np.abs(v).max())  # different faces, different vectors
    assert enc.embed(chips[:0]).shape == (0, DIMS[name])
    with pytest.raises(ValueError, match="uint8"):
        enc.embed(chips.astype(np.float32))


def test_random_weights_are_deterministic_and_chips_resized(chips, random_encoders):
    enc = random_encoders("squeezenet")
    first = enc.embed(chips[:2])
    assert np.array_equal(enc.embed(chips[:2]), first)  # call to call
    again = load_imagenet_encoder("squeezenet", weights="random")  # the same seed builds the same network
    assert np.array_equal(again.embed(chips[:2]), first)
    photo = load_image(lfw_image("Aaron_Eckhart", 1))  # 250x250: resized to 224x224 on the way in
    resized = enc.embed(photo[None])
    assert resized.shape == (1, DIMS["squeezenet"]) and np.isfinite(resized).all()
    assert not np.array_equal(resized[0], first[0])


@pytest.mark.parametrize("name", ["densenet", "googlenet", "vgg"])
def test_random_encoder_single_chip(name, chips, random_encoders):
    enc = random_encoders(name)
    assert enc.dim == DIMS[name] and enc.random_weights is True
    assert batchnorms(enc.model) == BATCHNORMS_LEFT[name]
    v = enc.embed(chips[:1])
    assert v.shape == (1, DIMS[name]) and v.dtype == np.float32 and np.isfinite(v).all()
    assert np.abs(v).max() > 0


def randomised_batchnorm(model: nn.Module, seed: int = 1) -> nn.Module:
    """Give every batch norm non-trivial statistics, so that folding has something to fold."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_(torch.randn(n, generator=g) * 0.1)
    return model.eval()


def test_batchnorm_folding_is_exact(chips):
    """A short ResNet of ResNet-50's bottleneck blocks, with non-trivial batch-norm statistics, before
    and after folding (the googlenet and densenet weight-file tests below check their folding against
    torchvision's unfolded forward)."""
    torch.manual_seed(0)
    short = ResNet(Bottleneck, [1, 2, 1, 1])
    body = nn.Sequential(*list(randomised_batchnorm(short).children())[:-1])
    x = imagenet_input(chips[:1])
    with torch.inference_mode():
        reference = body(x).flatten(1).numpy()
        fold_batchnorm("resnet", body)
        after = body(x).flatten(1).numpy()
    assert batchnorms(body) == 0
    assert_close(after, reference, rel=1e-4)


@pytest.fixture
def empty_weight_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEREID_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    (tmp_path / "weights").mkdir()
    assert hub_checkpoints_dir() == tmp_path / "torch" / "hub" / "checkpoints"  # nothing pinned torch.hub.set_dir
    return tmp_path


def test_missing_weights_say_which_file_and_where(empty_weight_dirs):
    with pytest.raises(ModelUnavailableError) as err:
        load_imagenet_encoder("resnet", download=False)
    message = str(err.value)
    assert "resnet50-0676ba61.pth" in message and "https://download.pytorch.org/models/resnet50-0676ba61.pth" in message
    assert "FACEREID_WEIGHTS_DIR" in message and str(empty_weight_dirs / "weights") in message
    assert str(empty_weight_dirs / "torch" / "hub" / "checkpoints") in message
    with pytest.raises(ModelUnavailableError, match=r"nowhere\.pth: weights file not found .*vgg16-397923af\.pth"):
        load_imagenet_encoder("vgg", weights_path=empty_weight_dirs / "nowhere.pth")


def test_missing_weights_with_download_attempt_fails_fast_offline(empty_weight_dirs):
    try:
        socket.create_connection(("download.pytorch.org", 443), timeout=2).close()
        pytest.skip("download.pytorch.org is reachable here: the download would succeed")
    except OSError:
        pass
    start = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match=r"squeezenet1_0-b66bff10\.pth .*could not download"):
        load_imagenet_encoder("squeezenet")
    assert time.perf_counter() - start < 12


def test_weights_found_in_weights_dir(empty_weight_dirs, chips):
    torch.manual_seed(123)
    model = tvm.squeezenet1_0(weights=None).eval()
    torch.save(model.state_dict(), empty_weight_dirs / "weights" / FILES["squeezenet"])
    enc = load_imagenet_encoder("squeezenet")
    assert enc.random_weights is False and enc.weights_file == empty_weight_dirs / "weights" / FILES["squeezenet"]
    assert FILES["squeezenet"] in enc.description and "RANDOM" not in enc.description
    with torch.inference_mode():
        expected = model.features(imagenet_input(chips)).flatten(1).numpy()
    assert_close(enc.embed(chips), expected)


def test_weights_found_in_hub_cache_with_aux_heads(empty_weight_dirs, chips):
    torch.manual_seed(7)
    model = randomised_batchnorm(tvm.googlenet(weights=None, aux_logits=True, init_weights=True))
    state = model.state_dict()
    assert any(k.startswith("aux1.") for k in state)  # as in torchvision's file
    hub = empty_weight_dirs / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    torch.save(state, hub / FILES["googlenet"])
    enc = load_imagenet_encoder("googlenet")
    assert enc.weights_file == hub / FILES["googlenet"]
    model.transform_input, model.fc = True, nn.Identity()  # torchvision's own forward, up to the pooled features
    with torch.inference_mode():
        expected = model(imagenet_input(chips[:1])).numpy()
    assert_close(enc.embed(chips[:1]), expected)


def test_explicit_densenet_file_with_legacy_key_names(tmp_path, chips):
    torch.manual_seed(5)
    model = randomised_batchnorm(tvm.densenet121(weights=None))
    legacy = {re.sub(r"(denselayer\d+\.(?:norm|relu|conv))([12])\.", r"\1.\2.", k): v
              for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert "features.denseblock1.denselayer1.norm.1.weight" in legacy  # the old file's naming
    torch.save(legacy, tmp_path / "my-densenet.pth")
    enc = load_imagenet_encoder("densenet", weights_path=tmp_path / "my-densenet.pth")
    with torch.inference_mode():
        expected = model.features(imagenet_input(chips[:1])).flatten(1).numpy()  # no final ReLU, as the study
    assert_close(enc.embed(chips[:1]), expected)


def test_damaged_or_wrong_weights_files(empty_weight_dirs):
    target = empty_weight_dirs / "weights" / FILES["squeezenet"]
    target.write_bytes(b"this is not a checkpoint")
    with pytest.raises(ModelFileError, match=r"squeezenet1_0-b66bff10\.pth: not a readable PyTorch weights file"):
        load_imagenet_encoder("squeezenet")
    torch.save({"fc.weight": torch.zeros(2, 2)}, target)
    with pytest.raises(ModelFileError, match=r"squeezenet1_0-b66bff10\.pth: not torchvision's SqueezeNet 1\.0 weights"):
        load_imagenet_encoder("squeezenet")


class _Files(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass


def test_download_checks_the_hash_and_never_hangs(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    payload = b"weights" * 1000
    digest = hashlib.sha256(payload).hexdigest()
    (served / f"tiny-{digest[:8]}.pth").write_bytes(payload)
    (served / "tiny-00000000.pth").write_bytes(payload)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: _Files(*a, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    silent = socket.socket()  # accepts connections (backlog) but never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    old_timeout = socket.getdefaulttimeout()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        got = download_weights(f"{base}/tiny-{digest[:8]}.pth", tmp_path / "hub")
        assert got == tmp_path / "hub" / f"tiny-{digest[:8]}.pth" and got.read_bytes() == payload
        with pytest.raises(ModelUnavailableError, match="could not download .*tiny-00000000.pth"):
            download_weights(f"{base}/tiny-00000000.pth", tmp_path / "hub")  # hash mismatch
        assert not (tmp_path / "hub" / "tiny-00000000.pth").exists()
        start = time.perf_counter()
        with pytest.raises(ModelUnavailableError, match="could not download"):
            download_weights(f"http://127.0.0.1:{closed_port}/x-12345678.pth", tmp_path / "hub", timeout=0.5)
        with pytest.raises(ModelUnavailableError, match="timed out"):
            download_weights(f"http://127.0.0.1:{silent.getsockname()[1]}/x-12345678.pth", tmp_path / "hub",
                             timeout=0.5)
        assert time.perf_counter() - start < 3.0
        assert socket.getdefaulttimeout() == old_timeout
        assert sorted(p.name for p in (tmp_path / "hub").iterdir()) == [f"tiny-{digest[:8]}.pth"]  # no .partial left
    finally:
        server.shutdown()
        silent.close()
