"""Placeholder router; its owner replaces this file."""

from fastapi import APIRouter

router = APIRouter()
