!function(w,u){w.sightline=w.sightline||function(){(w.sightline.q=w.sightline.q||[]).push(arguments)};import(u).catch(function(){w.sightline=function(){}})}(window,"SDK_URL");
