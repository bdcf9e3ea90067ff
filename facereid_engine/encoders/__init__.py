"""Encoders: face chips in, vectors out, organised as families with cards (see :mod:`.registry`).

Built in: ``dlib`` (the default: dlib's face-trained ResNet, 128-D) and the original study's five
ImageNet encoders (``densenet``, ``googlenet``, ``resnet``, ``squeezenet``, ``vgg``); models the user
trained appear as ``<base>+<name>`` (the ``trained`` family, registered by ``training/``).
"""
from .base import Encoder
from .names import is_trained, split_trained, trained_name
from .registry import (DEFAULT_ENCODER, EncoderCard, EncoderFamily, available_encoders, card, cards, families,
                       family_of, forget_encoder, get_encoder, register_family, unregister_family)

__all__ = ["Encoder", "EncoderCard", "EncoderFamily", "DEFAULT_ENCODER", "available_encoders", "card", "cards",
           "families", "family_of", "forget_encoder", "get_encoder", "register_family", "unregister_family",
           "is_trained", "split_trained", "trained_name"]
