"""Blendshape bases for retargeting (ARKit-52 on the shipped rig) and their file format."""
