"""Housekeeping jobs: retention pruning."""
