"""Response 预案响应: plan activations (预案启动) and the tasks they give, with their life cycle."""
