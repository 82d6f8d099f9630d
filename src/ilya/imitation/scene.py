"""The MuJoCo scene: a table, up to N labelled cubes and a parallel-jaw gripper with 3-D position control.

`scene_xml` writes the MJCF of one scene.  The gripper is a hand on three slide joints (x, y, z) with two
fingers on slide joints, all driven by position actuators: in ``full`` physics MuJoCo simulates the grasp
through finger contacts and friction; in ``hybrid`` physics the gripper's geoms collide with nothing, the
hand is moved kinematically and a grasped block is carried rigidly (see `ilya.imitation.env`).
"""

from __future__ import annotations

BLOCK_HALF = 0.025
"""half the edge of a cube (5 cm blocks)"""
LABELS = "abcdefghij"
"""block labels, in scene order (at most 10 blocks, as in the paper)"""
FINGER_OPEN = 0.045
"""finger slide target when open (each finger, metres from the hand's axis)"""
FINGER_CLOSED = 0.008
"""finger slide target when closed (the block stops the fingers before this)"""
HAND_START = (0.0, 0.0, 0.30)
COLOURS = [
    "0.90 0.20 0.20", "0.20 0.60 0.90", "0.20 0.75 0.30", "0.95 0.75 0.10", "0.65 0.30 0.85",
    "0.95 0.50 0.10", "0.10 0.80 0.80", "0.85 0.40 0.60", "0.50 0.50 0.50", "0.55 0.35 0.15",
]


def scene_xml(n_blocks: int, physics: str = "hybrid") -> str:
    """MJCF of a table with ``n_blocks`` free cubes and the gripper (``physics``: full or hybrid)."""
    full = physics == "full"
    contact = 'contype="1" conaffinity="1"' if full else 'contype="0" conaffinity="0"'
    timestep = 0.002 if full else 0.005
    blocks = []
    for i in range(n_blocks):
        x = -0.3 + 0.12 * i
        blocks.append(
            f'<body name="block_{LABELS[i]}" pos="{x:.3f} 0.35 {BLOCK_HALF}">'
            f'<freejoint name="block_{LABELS[i]}"/>'
            f'<geom type="box" size="{BLOCK_HALF} {BLOCK_HALF} {BLOCK_HALF}" rgba="{COLOURS[i]} 1" mass="0.1" '
            f'friction="1.5 0.01 0.001" condim="{4 if full else 3}" solref="0.005 1"/></body>')
    hx, hy, hz = HAND_START
    kp_hand = 2000.0
    return f"""<mujoco model="blockstack">
  <compiler angle="radian"/>
  <option timestep="{timestep}" gravity="0 0 -9.81" impratio="{10 if full else 1}" cone="{'elliptic' if full else 'pyramidal'}"/>
  <visual><global offwidth="640" offheight="480"/><quality shadowsize="2048"/></visual>
  <asset>
    <texture name="grid" type="2d" builtin="checker" rgb1="0.82 0.78 0.70" rgb2="0.76 0.72 0.64" width="256" height="256"/>
    <material name="table" texture="grid" texrepeat="8 8" reflectance="0"/>
  </asset>
  <worldbody>
    <light pos="0 -0.4 1.2" dir="0 0.3 -1" diffuse="0.8 0.8 0.8" castshadow="false"/>
    <light pos="0.5 0.5 1.0" dir="-0.4 -0.4 -1" diffuse="0.3 0.3 0.3" castshadow="false"/>
    <geom name="table" type="plane" size="0.6 0.6 0.02" material="table" friction="1 0.01 0.001"/>
    <camera name="front" pos="0 -0.62 0.5" xyaxes="1 0 0 0 0.62 0.78"/>
    {''.join(blocks)}
    <body name="hand" pos="{hx} {hy} {hz}" gravcomp="1">
      <joint name="hand_x" type="slide" axis="1 0 0" damping="50"/>
      <joint name="hand_y" type="slide" axis="0 1 0" damping="50"/>
      <joint name="hand_z" type="slide" axis="0 0 1" damping="50"/>
      <geom name="palm" type="box" pos="0 0 0.055" size="0.06 0.015 0.01" rgba="0.3 0.3 0.35 1" mass="0.5" {contact}/>
      <body name="finger_l" pos="0 0 0" gravcomp="1">
        <joint name="finger_l" type="slide" axis="-1 0 0" range="-0.01 0.05" damping="5"/>
        <geom name="finger_l" type="box" pos="-0.0 0 0.015" size="0.006 0.014 0.035" rgba="0.2 0.2 0.2 1" mass="0.05"
              friction="2 0.02 0.002" condim="4" {contact}/>
      </body>
      <body name="finger_r" pos="0 0 0" gravcomp="1">
        <joint name="finger_r" type="slide" axis="1 0 0" range="-0.01 0.05" damping="5"/>
        <geom name="finger_r" type="box" pos="0.0 0 0.015" size="0.006 0.014 0.035" rgba="0.2 0.2 0.2 1" mass="0.05"
              friction="2 0.02 0.002" condim="4" {contact}/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <position name="hand_x" joint="hand_x" kp="{kp_hand}" ctrlrange="-1 1"/>
    <position name="hand_y" joint="hand_y" kp="{kp_hand}" ctrlrange="-1 1"/>
    <position name="hand_z" joint="hand_z" kp="{kp_hand}" ctrlrange="-1 1"/>
    <position name="finger_l" joint="finger_l" kp="300" ctrlrange="-0.01 0.05" forcerange="-15 15"/>
    <position name="finger_r" joint="finger_r" kp="300" ctrlrange="-0.01 0.05" forcerange="-15 15"/>
  </actuator>
</mujoco>
"""
