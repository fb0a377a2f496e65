-- Never ends on its own: `automator run busy_loop.lua --timeout 1` must stop it after 1 s.
while true do end
