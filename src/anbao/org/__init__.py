"""Org 组织: command tree 指挥体系, police units 警力单元 and their people 人员."""
