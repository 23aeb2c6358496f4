package server

import "net/http"

func (s *Server) routeWES(mux *http.ServeMux) {}
